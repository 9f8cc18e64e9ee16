"""The message bus port: what services need from Kafka, and nothing Kafka-specific.

Delivery is at least once. Group subscriptions keep per-partition (so per-key) order and
commit a record only after its handler returned; a handler that raises gets the same record
again, after a short delay, for as long as it keeps raising (retries with a limit and dead
letters belong to the caller, e.g. the dispatcher).
"""

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Protocol

from integrations.contracts.messages.base import Message

Header = tuple[str, bytes]


@dataclass(frozen=True, slots=True)
class Record:
    topic: str
    partition: int
    offset: int
    key: str | None
    # None is a tombstone: on a compacted topic it deletes the key.
    value: bytes | None
    headers: tuple[Header, ...]
    timestamp_ms: int

    def header(self, name: str) -> bytes | None:
        """The last value of header `name` (names compare case-insensitively)."""
        wanted = name.lower()
        found = None
        for header_name, value in self.headers:
            if header_name.lower() == wanted:
                found = value
        return found


Handler = Callable[[Record], Awaitable[None]]
Predicate = Callable[[Record], bool]
# (traceparent, tracestate) of the active span, or (None, None) outside any span.
TraceContextSource = Callable[[], tuple[str | None, str | None]]


class View(Protocol):
    """A whole-topic reader that every instance runs for itself (no consumer group)."""

    @property
    def topic(self) -> str: ...

    @property
    def caught_up(self) -> asyncio.Event:
        """Set once every record that existed when the view started has been handled."""
        ...


class Expectation(Protocol):
    async def wait(self, timeout: float) -> Record:  # noqa: ASYNC109 - one call, one bound
        """The first matching record published after the expectation was entered.

        Raises `TimeoutError` if none arrives within `timeout` seconds.
        """
        ...


class Bus(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def publish(
        self,
        topic: str,
        message: Message | None,
        *,
        source: str,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Publish and wait for the broker's acknowledgement.

        `key` defaults to the message's partition key; `message=None` publishes a tombstone
        for `key`. Raises `BusUnavailable` if not acknowledged within the configured time.
        """
        ...

    async def publish_raw(
        self,
        topic: str,
        key: str | None,
        value: bytes | None,
        headers: Sequence[Header] = (),
    ) -> None:
        """Publish bytes as they are (replays, dead letters); same guarantees as `publish`."""
        ...

    def subscribe(self, topic: str, handler: Handler, *, group: str) -> None:
        """Consume `topic` in consumer group `group`, starting at the group's commit.

        Registration only: consumers start with the bus, or at once if it is running.
        """
        ...

    def subscribe_view(self, topic: str, handler: Handler) -> View:
        """Read all of `topic` from its beginning, then follow it (compacted state topics)."""
        ...

    def expect(self, topic: str, predicate: Predicate) -> AbstractAsyncContextManager[Expectation]:
        """Wait for a record: enter before causing it, then `await expectation.wait(t)`."""
        ...

    async def health(self) -> bool:
        """Started, broker reachable, consumers running (for `/readyz`)."""
        ...
