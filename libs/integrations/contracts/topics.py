"""Every Kafka topic of the system (DESIGN §3) and how it is provisioned.

Handlers use these constants, never string literals. The messages a topic carries are
declared by the message classes themselves (`Message.topic`); `TopicSpec.message_types`
reads them back from the registry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from integrations.contracts.messages.base import Message

WEBHOOK_EVENTS: Final = "integrations.webhook-events.v1"
WEBHOOKS: Final = "integrations.webhooks.v1"
CREDENTIALS_COMMANDS: Final = "integrations.credentials-commands.v1"
CREDENTIALS_EVENTS: Final = "integrations.credentials-events.v1"
TRIGGER_COMMANDS: Final = "integrations.trigger-commands.v1"
TRIGGER_EVENTS: Final = "integrations.trigger-events.v1"
GRAPH_EXECUTION_REQUESTS: Final = "platform.graph-execution-requests.v1"
GRAPH_EXECUTION_RESULTS: Final = "platform.graph-execution-results.v1"
WEBHOOK_EVENTS_DLQ: Final = "integrations.webhook-events.dlq.v1"

MIB: Final = 1024 * 1024
DAY_MS: Final = 24 * 60 * 60 * 1000

INGRESS_BODY_LIMIT_BYTES: Final = 5 * MIB
# Room for the ingress body limit plus the envelope (ids, headers kept, JSON escaping).
# Producers and consumers must raise max.request.size / fetch sizes to match.
LARGE_MESSAGE_BYTES: Final = 8 * MIB
# A dead letter carries the original record base64-encoded (4/3 of its size) plus context.
DEAD_LETTER_MESSAGE_BYTES: Final = 12 * MIB

# Services of this system; anything else named as producer/consumer is another team's.
INTEGRATIONS_SERVICES: Final = frozenset({"ingress", "credentials", "oauth", "dispatcher"})

CleanupPolicy = Literal["delete", "compact"]
KeyField = Literal["webhook_id", "user_id"]


@dataclass(frozen=True, slots=True)
class TopicSpec:
    name: str
    key_field: KeyField
    key_description: str
    description: str
    producers: tuple[str, ...]
    consumers: tuple[str, ...]
    partitions: int = 6
    cleanup_policy: CleanupPolicy = "delete"
    # None on compacted topics: the latest state per key is kept forever.
    retention_ms: int | None = 7 * DAY_MS
    max_message_bytes: int | None = None

    @property
    def message_types(self) -> tuple[type[Message], ...]:
        # Imported here: the message modules import this module for the topic names.
        from integrations.contracts.registry import message_types_of_topic

        return message_types_of_topic(self.name)

    def kafka_config(self) -> dict[str, str]:
        """Topic-level configs for `integrations topics create` (all values as strings)."""
        config: dict[str, str] = {"cleanup.policy": self.cleanup_policy}
        if self.retention_ms is not None:
            config["retention.ms"] = str(self.retention_ms)
        if self.max_message_bytes is not None:
            config["max.message.bytes"] = str(self.max_message_bytes)
        return config


TOPICS: Final[tuple[TopicSpec, ...]] = (
    TopicSpec(
        name=WEBHOOK_EVENTS,
        key_field="webhook_id",
        key_description="webhook_id: keeps each webhook's deliveries in order",
        description="Verified webhook deliveries, published by ingress before it answers 2xx.",
        producers=("ingress",),
        consumers=("dispatcher", "credentials"),
        partitions=12,
        max_message_bytes=LARGE_MESSAGE_BYTES,
    ),
    TopicSpec(
        name=WEBHOOKS,
        key_field="webhook_id",
        key_description="webhook_id: compaction keeps the latest state per webhook",
        description=(
            "Full state of every webhook with its trigger links; a null value (tombstone) "
            "means the webhook was pruned. Ingress and dispatcher build their views from it."
        ),
        producers=("credentials",),
        consumers=("ingress", "dispatcher"),
        cleanup_policy="compact",
        retention_ms=None,
    ),
    TopicSpec(
        name=CREDENTIALS_COMMANDS,
        key_field="user_id",
        key_description="user_id: one user's credential writes stay in order",
        description="Commands to store credentials; token fields are transport-encrypted.",
        producers=("oauth",),
        consumers=("credentials",),
        # Short: a stale OAuth result is useless once the caller's wait has timed out.
        retention_ms=1 * DAY_MS,
    ),
    TopicSpec(
        name=CREDENTIALS_EVENTS,
        key_field="user_id",
        key_description="user_id",
        description="Credentials lifecycle events: metadata only, never secrets.",
        producers=("credentials",),
        consumers=("oauth", "platform"),
    ),
    TopicSpec(
        name=TRIGGER_COMMANDS,
        key_field="user_id",
        key_description="user_id: one user's trigger changes apply in order",
        description="Commands linking graph nodes and presets to webhooks, and unlinking them.",
        producers=("platform", "dispatcher"),
        consumers=("credentials",),
    ),
    TopicSpec(
        name=TRIGGER_EVENTS,
        key_field="user_id",
        key_description="user_id",
        description="Outcomes of trigger commands and webhook pruning.",
        producers=("credentials",),
        consumers=("platform",),
    ),
    TopicSpec(
        name=GRAPH_EXECUTION_REQUESTS,
        key_field="user_id",
        key_description="user_id",
        description="Graph executions requested by webhook triggers; carries the payload.",
        producers=("dispatcher",),
        consumers=("executor",),
        partitions=12,
        max_message_bytes=LARGE_MESSAGE_BYTES,
    ),
    TopicSpec(
        name=GRAPH_EXECUTION_RESULTS,
        key_field="user_id",
        key_description="user_id",
        description="The executor's answers to execution requests that concern integrations.",
        producers=("executor",),
        consumers=("dispatcher",),
    ),
    TopicSpec(
        name=WEBHOOK_EVENTS_DLQ,
        key_field="webhook_id",
        key_description="webhook_id of the original record (null when it could not be read)",
        description="Webhook events the dispatcher could not process; operators replay them.",
        producers=("dispatcher",),
        consumers=("operators",),
        partitions=3,
        retention_ms=30 * DAY_MS,
        max_message_bytes=DEAD_LETTER_MESSAGE_BYTES,
    ),
)

_BY_NAME: Final = {spec.name: spec for spec in TOPICS}

TOPIC_NAMES: Final[tuple[str, ...]] = tuple(_BY_NAME)


def topic_spec(name: str) -> TopicSpec:
    try:
        return _BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown topic: {name!r}") from None
