"""Webhooks ⇄ documents. One document per webhook::

    _id                         the webhook id (uuid4)
    user_id, credentials_id     in clear: every query is scoped by user
    dedupe_key                  unique: how a suitable webhook is found (see domain.webhooks)
    status                      pending | active | pruning
    provider, webhook_type, resource, events, provider_webhook_id, manual
    config                      the provider's answer, as JSON text
    node_triggers, preset_triggers   the trigger links, as JSON text
    trigger_count               how many links (a scalar a query could use)
    secrets.secret              the signing secret, a ciphertext (see `secrets.py`)
    created_at, updated_at, version

Config and links are JSON text because they hold keys the store refuses (a filter's event
names and a preset's inputs come from users and may contain '.' or '$'), and because no
query looks inside them: the store only answers scalar-field filters the same way on both
adapters (docs/storage.md).
"""

import json
from collections.abc import Mapping
from typing import Any, Final

from pydantic import SecretStr, TypeAdapter

from integrations.contracts import NodeTrigger, PresetTrigger
from integrations.credentials.adapters.secrets import SECRETS_FIELD, SealedFields
from integrations.credentials.domain.webhooks import Webhook
from integrations.storage import VERSION_FIELD, Document

_SECRET: Final = "secret"  # noqa: S105 - the field name, not a value
_NODE_TRIGGERS: Final[TypeAdapter[tuple[NodeTrigger, ...]]] = TypeAdapter(tuple[NodeTrigger, ...])
_PRESET_TRIGGERS: Final[TypeAdapter[tuple[PresetTrigger, ...]]] = TypeAdapter(
    tuple[PresetTrigger, ...]
)


def to_document(webhook: Webhook, sealed: SealedFields) -> Document:
    return {
        "_id": webhook.id,
        "user_id": webhook.user_id,
        "credentials_id": webhook.credentials_id,
        "dedupe_key": webhook.dedupe_key,
        "status": webhook.status,
        "provider": webhook.provider,
        "webhook_type": webhook.webhook_type,
        "resource": webhook.resource,
        "events": list(webhook.events),
        "provider_webhook_id": webhook.provider_webhook_id,
        "manual": webhook.manual,
        "config": json.dumps(dict(webhook.config)),
        "node_triggers": _NODE_TRIGGERS.dump_json(webhook.node_triggers).decode(),
        "preset_triggers": _PRESET_TRIGGERS.dump_json(webhook.preset_triggers).decode(),
        "trigger_count": len(webhook.triggers),
        SECRETS_FIELD: sealed.seal(webhook.id, {_SECRET: webhook.secret.get_secret_value()}),
        "created_at": webhook.created_at,
        "updated_at": webhook.updated_at,
        VERSION_FIELD: webhook.version,
    }


def from_document(doc: Mapping[str, Any], sealed: SealedFields) -> Webhook:
    return Webhook(
        id=doc["_id"],
        user_id=doc["user_id"],
        credentials_id=doc["credentials_id"],
        dedupe_key=doc["dedupe_key"],
        status=doc["status"],
        provider=doc["provider"],
        webhook_type=doc["webhook_type"],
        resource=doc["resource"],
        events=tuple(doc["events"]),
        provider_webhook_id=doc["provider_webhook_id"],
        manual=doc["manual"],
        config=json.loads(doc["config"]),
        node_triggers=_NODE_TRIGGERS.validate_json(doc["node_triggers"]),
        preset_triggers=_PRESET_TRIGGERS.validate_json(doc["preset_triggers"]),
        secret=SecretStr(sealed.open(doc)[_SECRET]),
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        version=doc[VERSION_FIELD],
    )
