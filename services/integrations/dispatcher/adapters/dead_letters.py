"""Hands records the dispatcher gives up on to `integrations.webhook-events.dlq.v1`."""

import logging
from datetime import UTC, datetime
from typing import Final

from integrations.bus import Bus, PublishRejected, Record
from integrations.contracts import DeadLetter, build_headers, encode, topics
from integrations.telemetry import current_traceparent

log = logging.getLogger(__name__)

_DROPPED_VALUE_NOTE: Final = " [original value dropped: the dead letter was too large]"


async def send_to_dead_letters(
    bus: Bus,
    record: Record,
    error: BaseException,
    *,
    attempts: int,
    consumer_group: str,
    source: str,
    now: datetime,
) -> DeadLetter:
    """Publish the dead letter and wait for the broker; raises if it was not acknowledged
    (the caller must then not commit the record)."""
    letter = DeadLetter.from_record(
        topic=record.topic,
        partition=record.partition,
        offset=record.offset,
        key=None if record.key is None else record.key.encode(),
        value=record.value,
        headers=record.headers,
        error=error,
        attempts=attempts,
        failed_at=now,
        timestamp=datetime.fromtimestamp(record.timestamp_ms / 1000, UTC),
        consumer_group=consumer_group,
    )
    try:
        await _publish(bus, letter, source)
    except PublishRejected:
        # Better a letter that says what was lost than no letter and a stuck partition.
        log.error(
            "dead letter of %s:%s too large; dropping its value", record.partition, record.offset
        )
        letter = letter.model_copy(
            update={
                "original_value_base64": None,
                "error": (letter.error + _DROPPED_VALUE_NOTE)[-2048:],
            }
        )
        await _publish(bus, letter, source)
    return letter


async def _publish(bus: Bus, letter: DeadLetter, source: str) -> None:
    if letter.webhook_id is not None:
        await bus.publish(topics.WEBHOOK_EVENTS_DLQ, letter, source=source)
        return
    # The topic's key is the webhook id, null when it could not be read; `publish` insists
    # on a key, so this one record goes out raw with the same headers it would have got.
    traceparent, tracestate = current_traceparent()
    headers = build_headers(
        letter,
        source=source,
        traceparent=traceparent,
        tracestate=tracestate if traceparent else None,
    )
    await bus.publish_raw(topics.WEBHOOK_EVENTS_DLQ, None, encode(letter), headers)
