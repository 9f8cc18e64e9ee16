"""The bus in one process: the embedded default and the unit tests' bus.

It keeps Kafka's semantics where services can observe them:

- each topic is an append-only log split into partitions by a hash of the key, so one key's
  records keep their order;
- a consumer group delivers each record to one of its subscriptions; partitions are shared
  round-robin among them. A record is committed after its handler returns; a handler that
  raises gets the same record again after `redelivery_delay_s`, for as long as it raises.
  Only that partition waits: the others keep flowing (Kafka blocks the whole consumer, a
  difference no caller can rely on);
- a view replays the topic as compaction would leave it (the latest value per key, deleted
  keys absent), then follows every new record, tombstones included;
- handlers run in their own tasks, never inside `publish()`, as they would behind a broker.

Nothing is persisted: topics live as long as the bus object.
"""

import asyncio
import itertools
import logging
import time
import zlib
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from integrations.bus.envelope import SealingPublisher
from integrations.bus.errors import BusUnavailable
from integrations.bus.handling import apply_to_view
from integrations.bus.ports import (
    Expectation,
    Handler,
    Header,
    Predicate,
    Record,
    TraceContextSource,
)
from integrations.telemetry.propagation import current_traceparent

log = logging.getLogger(__name__)

Log = list[list[Record]]


@dataclass
class _Group:
    topic: str
    name: str
    committed: list[int]
    members: list[Handler] = field(default_factory=list)

    def owner(self, partition: int) -> Handler:
        return self.members[partition % len(self.members)]


class MemoryView:
    def __init__(self, topic: str, handler: Handler) -> None:
        self._topic = topic
        self.handler = handler
        self._caught_up = asyncio.Event()
        self.positions: list[int] = []

    @property
    def topic(self) -> str:
        return self._topic

    @property
    def caught_up(self) -> asyncio.Event:
        return self._caught_up


class _MemoryExpectation:
    def __init__(self, bus: "InMemoryBus", topic: str, predicate: Predicate) -> None:
        self._bus = bus
        self._log = bus.log_of(topic)
        self._predicate = predicate
        # Only records appended after entering count, however late `wait` is called.
        self._cursor = [len(partition) for partition in self._log]

    async def wait(self, timeout: float) -> Record:  # noqa: ASYNC109 - the port's signature
        async with asyncio.timeout(timeout), self._bus.changed:
            while (found := self._scan()) is None:
                await self._bus.changed.wait()
            return found

    def _scan(self) -> Record | None:
        for number, partition in enumerate(self._log):
            while self._cursor[number] < len(partition):
                record = partition[self._cursor[number]]
                self._cursor[number] += 1
                if self._predicate(record):
                    return record
        return None


class InMemoryBus(SealingPublisher):
    def __init__(
        self,
        *,
        partitions: int = 4,
        redelivery_delay_s: float = 0.5,
        trace_context: TraceContextSource = current_traceparent,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._partitions = partitions
        self._redelivery_delay_s = redelivery_delay_s
        self._trace_context = trace_context
        self._clock = clock
        self._logs: dict[str, Log] = {}
        self._groups: dict[tuple[str, str], _Group] = {}
        self._views: list[MemoryView] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._running = False
        self._keyless = itertools.count()
        # Notified whenever a record is appended or a consumer moves on.
        self.changed = asyncio.Condition()

    async def start(self) -> None:
        if self._running:
            return
        self._running = True
        for group in self._groups.values():
            self._start_group(group)
        for view in self._views:
            self._spawn(self._run_view(view))

    async def stop(self) -> None:
        self._running = False
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def health(self) -> bool:
        return self._running

    async def _send(
        self, topic: str, key: str | None, value: bytes | None, headers: Sequence[Header]
    ) -> None:
        if not self._running:
            raise BusUnavailable("the in-memory bus is not running")
        partitions = self.log_of(topic)
        number = self._partition_for(key, len(partitions))
        partitions[number].append(
            Record(
                topic=topic,
                partition=number,
                offset=len(partitions[number]),
                key=key,
                value=value,
                headers=tuple(headers),
                timestamp_ms=int(self._clock() * 1000),
            )
        )
        await self._notify()

    def subscribe(self, topic: str, handler: Handler, *, group: str) -> None:
        consumer_group = self._groups.get((topic, group))
        if consumer_group is None:
            # A new group starts at the earliest record, like auto_offset_reset="earliest".
            consumer_group = _Group(topic, group, committed=[0] * len(self.log_of(topic)))
            self._groups[(topic, group)] = consumer_group
            consumer_group.members.append(handler)
            if self._running:
                self._start_group(consumer_group)
        else:
            consumer_group.members.append(handler)

    def subscribe_view(self, topic: str, handler: Handler) -> MemoryView:
        view = MemoryView(topic, handler)
        self.log_of(topic)
        self._views.append(view)
        if self._running:
            self._spawn(self._run_view(view))
        return view

    def expect(self, topic: str, predicate: Predicate) -> AbstractAsyncContextManager[Expectation]:
        return self._expect(topic, predicate)

    @asynccontextmanager
    async def _expect(self, topic: str, predicate: Predicate) -> AsyncIterator[Expectation]:
        if not self._running:
            raise BusUnavailable("the in-memory bus is not running")
        yield _MemoryExpectation(self, topic, predicate)

    async def drain(self, timeout: float = 5.0) -> None:  # noqa: ASYNC109 - a test helper
        """Wait until every group and view has handled every record (for tests).

        Raises `TimeoutError` if a handler keeps failing, or keeps publishing.
        """
        async with asyncio.timeout(timeout), self.changed:
            await self.changed.wait_for(self._idle)

    def log_of(self, topic: str) -> Log:
        if topic not in self._logs:
            self._logs[topic] = [[] for _ in range(self._partitions)]
        return self._logs[topic]

    def _idle(self) -> bool:
        groups_done = all(
            group.committed[number] == len(partition)
            for group in self._groups.values()
            for number, partition in enumerate(self._logs[group.topic])
        )
        views_done = all(
            view.caught_up.is_set()
            and all(
                position == len(partition)
                for position, partition in zip(view.positions, self._logs[view.topic], strict=True)
            )
            for view in self._views
        )
        return groups_done and views_done

    def _partition_for(self, key: str | None, partitions: int) -> int:
        if key is None:
            return next(self._keyless) % partitions
        # crc32, not hash(): str hashes are salted per process, partitions must not be.
        return zlib.crc32(key.encode()) % partitions

    def _start_group(self, group: _Group) -> None:
        for number in range(len(group.committed)):
            self._spawn(self._run_partition(group, number))

    async def _run_partition(self, group: _Group, number: int) -> None:
        partition = self._logs[group.topic][number]
        while True:
            async with self.changed:
                await self.changed.wait_for(lambda: group.committed[number] < len(partition))
            record = partition[group.committed[number]]
            try:
                await group.owner(number)(record)
            except Exception:
                log.exception(
                    "handler failed; redelivering",
                    extra={"topic": record.topic, "group": group.name, "offset": record.offset},
                )
                await asyncio.sleep(self._redelivery_delay_s)
                continue
            group.committed[number] += 1
            await self._notify()

    async def _run_view(self, view: MemoryView) -> None:
        partitions = self._logs[view.topic]
        view.positions = [len(partition) for partition in partitions]
        for record in _compacted(partitions, view.positions):
            await apply_to_view(view.handler, record)
        view.caught_up.set()
        await self._notify()
        while True:
            async with self.changed:
                await self.changed.wait_for(
                    lambda: any(
                        position < len(partition)
                        for position, partition in zip(view.positions, partitions, strict=True)
                    )
                )
            for number, partition in enumerate(partitions):
                while view.positions[number] < len(partition):
                    await apply_to_view(view.handler, partition[view.positions[number]])
                    view.positions[number] += 1
            await self._notify()

    async def _notify(self) -> None:
        async with self.changed:
            self.changed.notify_all()

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _compacted(partitions: Log, ends: list[int]) -> list[Record]:
    """What a fully compacted topic holds: each key's latest record, unless a tombstone."""
    survivors: list[Record] = []
    for partition, end in zip(partitions, ends, strict=True):
        latest: dict[str | None, Record] = {}
        for record in partition[:end]:
            latest[record.key] = record
        survivors.extend(
            record
            for record in partition[:end]
            if record.value is not None and latest[record.key] is record
        )
    return survivors
