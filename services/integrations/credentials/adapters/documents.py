"""Credentials ⇄ documents. One document per credential::

_id                       record_id(user_id, credentials_id)
user_id, credentials_id   in clear: every query is scoped by user
provider, type            in clear: listing by provider, finding expiring OAuth2 tokens
access_token_expires_at   oauth2 only, top level for the `expiring` index
attributes                every other non-secret field of the credential, in clear
secrets                   every secret field, each a ciphertext (see `secrets.py`)
refresh                   RefreshState (why the last refreshes failed)
managed, created_at, updated_at, version
"""

import json
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any, Final
from urllib.parse import quote

from pydantic import SecretStr, TypeAdapter

from integrations.credentials.adapters.secrets import SECRETS_FIELD, SealedFields
from integrations.credentials.domain.credentials import (
    Credentials,
    CredentialsType,
    OAuth2Credentials,
)
from integrations.credentials.domain.stored import RefreshState, StoredCredentials
from integrations.storage import VERSION_FIELD, Document

# Which fields of each kind are secret. A test checks this against the models, so a new
# secret field cannot be stored in clear by accident.
SECRET_FIELDS: Final[Mapping[CredentialsType, tuple[str, ...]]] = {
    "oauth2": ("access_token", "refresh_token"),
    "api_key": ("api_key",),
    "user_password": ("username", "password"),
    "host_scoped": ("headers",),
}
# Kept at the top level of the document rather than in `attributes`.
_TOP_LEVEL: Final = ("id", "provider", "type", "access_token_expires_at")
_CREDENTIALS: Final[TypeAdapter[Credentials]] = TypeAdapter(Credentials)


def record_id(user_id: str, credentials_id: str) -> str:
    """Percent-encoded parts, so no two (user, id) pairs share an `_id` and another user's
    credential id is a plain miss."""
    return f"{quote(user_id, safe='')}/{quote(credentials_id, safe='')}"


def to_document(stored: StoredCredentials, sealed: SealedFields) -> Document:
    credentials = stored.credentials
    doc_id = record_id(stored.user_id, credentials.id)
    secret_names = SECRET_FIELDS[credentials.type]
    attributes = credentials.model_dump(mode="json", exclude={*_TOP_LEVEL, *secret_names})
    if "metadata" in attributes:
        # Provider metadata may hold keys the store refuses ('.', '$'): keep it as text.
        attributes["metadata"] = json.dumps(attributes["metadata"])
    doc: Document = {
        "_id": doc_id,
        "user_id": stored.user_id,
        "credentials_id": credentials.id,
        "provider": credentials.provider,
        "type": credentials.type,
        "attributes": attributes,
        SECRETS_FIELD: sealed.seal(doc_id, _plaintexts(credentials, secret_names)),
        "refresh": asdict(stored.refresh),
        "managed": stored.managed,
        "created_at": stored.created_at,
        "updated_at": stored.updated_at,
        VERSION_FIELD: stored.version,
    }
    if isinstance(credentials, OAuth2Credentials):
        doc["access_token_expires_at"] = credentials.access_token_expires_at
    return doc


def from_document(doc: Mapping[str, Any], sealed: SealedFields) -> StoredCredentials:
    attributes = dict(doc["attributes"])
    if "metadata" in attributes:
        attributes["metadata"] = json.loads(attributes["metadata"])
    secrets: dict[str, Any] = sealed.open(doc)
    if "headers" in secrets:
        secrets["headers"] = json.loads(secrets["headers"])
    fields = {
        **attributes,
        **secrets,
        "id": doc["credentials_id"],
        "provider": doc["provider"],
        "type": doc["type"],
    }
    if doc["type"] == "oauth2":
        fields["access_token_expires_at"] = doc.get("access_token_expires_at")
    credentials = _CREDENTIALS.validate_python(fields)
    return StoredCredentials(
        user_id=doc["user_id"],
        credentials=credentials,
        version=doc[VERSION_FIELD],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        refresh=RefreshState(**doc.get("refresh", {})),
        managed=bool(doc.get("managed", False)),
    )


def _plaintexts(credentials: Credentials, names: tuple[str, ...]) -> dict[str, str]:
    plaintexts: dict[str, str] = {}
    for name in names:
        value = getattr(credentials, name)
        if isinstance(value, SecretStr):
            plaintexts[name] = value.get_secret_value()
        elif isinstance(value, dict):  # host_scoped headers: one ciphertext for the map
            plaintexts[name] = json.dumps({k: v.get_secret_value() for k, v in value.items()})
        elif value is not None:
            raise TypeError(f"secret field {name!r} holds a {type(value).__name__}")
    return plaintexts
