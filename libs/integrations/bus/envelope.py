"""Turns a message (or a tombstone) into the bytes and headers both adapters publish."""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass

from integrations.bus.ports import Header, TraceContextSource
from integrations.contracts import cloudevents
from integrations.contracts.codec import encode
from integrations.contracts.messages.base import Message


@dataclass(frozen=True, slots=True)
class Envelope:
    key: str
    value: bytes | None
    headers: tuple[Header, ...]


def seal(
    topic: str,
    message: Message | None,
    *,
    key: str | None,
    source: str,
    trace_context: TraceContextSource,
    extra_headers: Mapping[str, str] | None,
) -> Envelope:
    if key is None and message is not None:
        key = message.partition_key()
    if key is None:
        # Without a key Kafka spreads records over partitions: no order, no compaction.
        raise ValueError(f"publishing to {topic} needs a key")
    traceparent, tracestate = trace_context()
    if traceparent is None:
        tracestate = None
    if message is None:
        headers = [
            (name, value.encode())
            for name, value in (
                (cloudevents.TRACEPARENT, traceparent),
                (cloudevents.TRACESTATE, tracestate),
            )
            if value is not None
        ]
        value = None
    else:
        headers = cloudevents.build_headers(
            message, source=source, traceparent=traceparent, tracestate=tracestate
        )
        value = encode(message)
    reserved = {name for name, _ in headers}
    for name, extra in (extra_headers or {}).items():
        if name in reserved:
            raise ValueError(f"header {name!r} is set by the bus")
        headers.append((name, extra.encode()))
    return Envelope(key=key, value=value, headers=tuple(headers))


class SealingPublisher(ABC):
    """`publish` and `publish_raw` for every adapter: seal the message, then `_send` it.

    `_publishing` wraps both, seal included, so an adapter's producer span is the context
    the record's `traceparent` carries.
    """

    _trace_context: TraceContextSource

    @abstractmethod
    async def _send(
        self, topic: str, key: str | None, value: bytes | None, headers: Sequence[Header]
    ) -> None: ...

    def _publishing(self, topic: str) -> AbstractContextManager[object]:
        return nullcontext()

    async def publish_raw(
        self,
        topic: str,
        key: str | None,
        value: bytes | None,
        headers: Sequence[Header] = (),
    ) -> None:
        with self._publishing(topic):
            await self._send(topic, key, value, headers)

    async def publish(
        self,
        topic: str,
        message: Message | None,
        *,
        source: str,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        with self._publishing(topic):
            envelope = seal(
                topic,
                message,
                key=key,
                source=source,
                trace_context=self._trace_context,
                extra_headers=headers,
            )
            await self._send(topic, envelope.key, envelope.value, envelope.headers)
