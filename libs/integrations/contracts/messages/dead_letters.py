"""Records the dispatcher gave up on (`webhook-events.dlq`), kept byte-exact for replay."""

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import ClassVar, Self

from pydantic import Field, TypeAdapter, ValidationError

from integrations.contracts import topics
from integrations.contracts.messages.base import Event, Part
from integrations.contracts.types import Reason, UtcDateTime, WebhookId

_ERROR_MAX_CHARS = 2048
_webhook_id = TypeAdapter[str](WebhookId)


class RecordHeader(Part):
    """One Kafka header of the original record."""

    name: str = Field(description="Header name.")
    value_base64: str | None = Field(description="Header value bytes, base64; null if none.")

    def value(self) -> bytes | None:
        return _from_b64(self.value_base64)


class DeadLetter(Event):
    """The original record (base64, because it may not even be valid UTF-8 or JSON) with
    where it came from and why it failed."""

    ce_type: ClassVar[str] = "integrations.message.dead-lettered.v1"
    topic: ClassVar[str] = topics.WEBHOOK_EVENTS_DLQ

    webhook_id: WebhookId | None = Field(
        default=None, description="Webhook of the original record, when its key was readable."
    )
    original_topic: str = Field(description="Topic the record was consumed from.")
    original_partition: int = Field(ge=0, description="Its partition.")
    original_offset: int = Field(ge=0, description="Its offset.")
    original_timestamp: UtcDateTime | None = Field(
        default=None, description="The record's timestamp."
    )
    original_key_base64: str | None = Field(
        default=None, description="The record key bytes, base64; null when it had none."
    )
    original_value_base64: str | None = Field(
        default=None, description="The record value bytes, base64; null for a null value."
    )
    original_headers: list[RecordHeader] = Field(
        default_factory=list, description="The record headers, in order (names may repeat)."
    )
    consumer_group: str | None = Field(
        default=None, description="Consumer group that failed to process it."
    )
    error_type: str = Field(
        max_length=256, description="Class of the last error (e.g. `InvalidMessage`)."
    )
    error: Reason = Field(description="Message of the last error (no secrets, no traceback).")
    attempts: int = Field(ge=1, description="How many times processing was attempted.")
    failed_at: UtcDateTime = Field(description="When the last attempt failed (UTC).")

    @classmethod
    def from_record(
        cls,
        *,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        value: bytes | None,
        headers: Sequence[tuple[str, bytes | None]],
        error: BaseException,
        attempts: int,
        failed_at: datetime,
        timestamp: datetime | None = None,
        consumer_group: str | None = None,
    ) -> Self:
        return cls(
            webhook_id=_readable_webhook_id(key),
            original_topic=topic,
            original_partition=partition,
            original_offset=offset,
            original_timestamp=timestamp,
            original_key_base64=_to_b64(key),
            original_value_base64=_to_b64(value),
            original_headers=[
                RecordHeader(name=name, value_base64=_to_b64(data)) for name, data in headers
            ],
            consumer_group=consumer_group,
            error_type=type(error).__name__,
            error=str(error)[:_ERROR_MAX_CHARS],
            attempts=attempts,
            failed_at=failed_at,
        )

    def original_key(self) -> bytes | None:
        return _from_b64(self.original_key_base64)

    def original_value(self) -> bytes | None:
        return _from_b64(self.original_value_base64)

    def original_header_pairs(self) -> list[tuple[str, bytes | None]]:
        return [(header.name, header.value()) for header in self.original_headers]


def _to_b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


def _from_b64(data: str | None) -> bytes | None:
    return None if data is None else base64.b64decode(data, validate=True)


def _readable_webhook_id(key: bytes | None) -> str | None:
    if key is None:
        return None
    try:
        return _webhook_id.validate_python(key.decode("utf-8"))
    except (UnicodeDecodeError, ValidationError):
        return None
