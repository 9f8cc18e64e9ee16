"""The vocabulary of the contracts: constrained aliases shared by every message.

They are `Annotated[str, ...]` rather than `NewType` so producers in any service can pass
plain strings while pydantic still enforces (and the JSON Schemas still document) the bounds.
"""

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, Field, StringConstraints


def _as_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


# Ids come from several systems (uuids, provider delivery ids, graph ids): bounded, and
# without whitespace so they are safe in logs, URLs and Kafka keys.
_Identifier = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^\S+$")]

UserId = _Identifier
CredentialsId = _Identifier
WebhookId = _Identifier
GraphId = _Identifier
NodeId = _Identifier
PresetId = _Identifier
CommandId = _Identifier
RequestId = _Identifier

# Provider delivery ids are opaque and sometimes long (e.g. Stripe, Slack envelopes).
EventId = Annotated[str, StringConstraints(min_length=1, max_length=256, pattern=r"^\S+$")]

# Open-ended (SPEC REG-5): validated against the provider registry by the services, here only
# shaped like the registry's names.
ProviderName = Annotated[
    str, StringConstraints(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")
]

EventType = Annotated[str, StringConstraints(min_length=1, max_length=256)]
WebhookType = Annotated[str, StringConstraints(min_length=1, max_length=128)]
# Empty for webhooks that are not scoped to a provider resource (e.g. manual webhooks).
Resource = Annotated[str, StringConstraints(max_length=1024)]
Scope = Annotated[str, StringConstraints(min_length=1, max_length=512)]
Title = Annotated[str, StringConstraints(max_length=512)]
Reason = Annotated[str, StringConstraints(max_length=2048)]
HttpUrl = Annotated[str, StringConstraints(max_length=2048, pattern=r"^https?://\S+$")]

GraphVersion = Annotated[int, Field(ge=1)]

# Output of the transport/at-rest cipher (AES-256-GCM with a key id); never plaintext.
Ciphertext = Annotated[str, StringConstraints(min_length=1, max_length=65536)]

# Times in messages are timezone-aware and normalised to UTC so equality and ordering work
# across producers in different zones.
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_as_utc)]

JsonObject = dict[str, Any]

CredentialsType = Literal["oauth2", "api_key", "user_password", "host_scoped"]

__all__ = [
    "Ciphertext",
    "CommandId",
    "CredentialsId",
    "CredentialsType",
    "EventId",
    "EventType",
    "GraphId",
    "GraphVersion",
    "HttpUrl",
    "JsonObject",
    "NodeId",
    "PresetId",
    "ProviderName",
    "Reason",
    "RequestId",
    "Resource",
    "Scope",
    "Title",
    "UserId",
    "UtcDateTime",
    "WebhookId",
    "WebhookType",
]
