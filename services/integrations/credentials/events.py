"""Credentials events (metadata only, never a secret) and how they are published."""

from datetime import UTC, datetime
from typing import Any, Final

from integrations.bus import Bus
from integrations.contracts import (
    CredentialsCreated,
    CredentialsDeleted,
    CredentialsRefreshed,
    CredentialsRefreshFailed,
    CredentialsUpdated,
    topics,
)
from integrations.contracts.messages.base import Event
from integrations.credentials.domain.credentials import (
    APIKeyCredentials,
    Credentials,
    OAuth2Credentials,
)
from integrations.credentials.domain.metadata import meta_of
from integrations.credentials.domain.stored import StoredCredentials

SOURCE: Final = "/integrations/credentials"


def created(stored: StoredCredentials, *, command_id: str | None = None) -> CredentialsCreated:
    return CredentialsCreated(**_metadata(stored, command_id))


def updated(stored: StoredCredentials) -> CredentialsUpdated:
    return CredentialsUpdated(**_metadata(stored, None))


def refreshed(stored: StoredCredentials) -> CredentialsRefreshed:
    return CredentialsRefreshed(**_metadata(stored, None))


def refresh_failed(
    stored: StoredCredentials, *, reason: str, reauthorize: bool
) -> CredentialsRefreshFailed:
    credentials = stored.credentials
    return CredentialsRefreshFailed(
        user_id=stored.user_id,
        credentials_id=credentials.id,
        provider=credentials.provider,
        credentials_type=credentials.type,
        title=credentials.title,
        reason=reason,
        reauthorization_required=reauthorize,
    )


def deleted(stored: StoredCredentials, *, revoked: bool | None) -> CredentialsDeleted:
    credentials = stored.credentials
    return CredentialsDeleted(
        user_id=stored.user_id,
        credentials_id=credentials.id,
        provider=credentials.provider,
        credentials_type=credentials.type,
        title=credentials.title,
        revoked=revoked,
    )


async def publish(bus: Bus, event: Event) -> None:
    await bus.publish(topics.CREDENTIALS_EVENTS, event, source=SOURCE)


def _metadata(stored: StoredCredentials, command_id: str | None) -> dict[str, Any]:
    meta = meta_of(stored.credentials)
    return {
        "user_id": stored.user_id,
        "credentials_id": meta.id,
        "provider": meta.provider,
        "credentials_type": meta.type,
        "title": meta.title,
        "command_id": command_id,
        "scopes": meta.scopes or [],
        "username": meta.username,
        "host": meta.host,
        "expires_at": _expires_at(stored.credentials),
    }


def _expires_at(credentials: Credentials) -> datetime | None:
    if isinstance(credentials, OAuth2Credentials):
        epoch = credentials.access_token_expires_at
    elif isinstance(credentials, APIKeyCredentials):
        epoch = credentials.expires_at
    else:
        epoch = None
    return None if epoch is None else datetime.fromtimestamp(epoch, UTC)
