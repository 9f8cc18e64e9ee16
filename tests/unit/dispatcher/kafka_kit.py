"""Kafka helpers of the dispatcher's integration tests (real broker from the harness)."""

import asyncio
from collections.abc import Callable, Iterable
from typing import TypeVar

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.coordinator.protocol import ConsumerProtocolMemberAssignment

from integrations.bus import Record
from integrations.bus.admin import ensure_topics
from integrations.bus.kafka_readers import to_record
from integrations.contracts import TOPICS, Message, decode

M = TypeVar("M", bound=Message)


async def provision_topics(bootstrap: str) -> None:
    """The contract's topics, as `integrations topics create` makes them (idempotent)."""
    await ensure_topics(bootstrap, TOPICS)


async def start_group_at_end(bootstrap: str, group: str, topic: str) -> None:
    """Commit `group` at the topic's current end, so a new group skips what other tests on
    the shared broker published before (a new group would start at the earliest record)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = await partitions_of(bootstrap, topic)
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.commit(dict(ends.items()))
    finally:
        await consumer.stop()


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [TopicPartition(topic, p["partition"]) for p in described["partitions"]]


class Tail:
    """Every record published to a topic from now on whose message `keep` accepts."""

    def __init__(
        self,
        bootstrap: str,
        topic: str,
        keep: Callable[[Message], bool],
        *,
        key: str | None = None,
    ) -> None:
        """`key`: only records with this key are decoded (cheap on a busy shared topic)."""
        self._bootstrap = bootstrap
        self._topic = topic
        self._keep = keep
        self._key = key
        self.records: list[tuple[Record, Message]] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None
        self._changed = asyncio.Event()

    async def __aenter__(self) -> "Tail":
        partitions = await partitions_of(self._bootstrap, self._topic)
        consumer = self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False
        )
        await consumer.start()
        consumer.assign(partitions)
        for partition, end in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, end)
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()

    async def _run(self) -> None:
        assert self._consumer is not None
        while True:
            batches = await self._consumer.getmany(timeout_ms=200)
            for raw in (raw for batch in batches.values() for raw in batch):
                record = to_record(raw)
                if self._key is not None and record.key != self._key:
                    continue
                try:
                    message = decode(record.headers, record.value)
                except Exception:  # another test's junk on the shared topic
                    continue
                if self._keep(message):
                    self.records.append((record, message))
            if batches:
                self._changed.set()

    def messages(self, kind: type[M]) -> list[M]:
        return [m for _, m in self.records if isinstance(m, kind)]

    async def wait_until(self, condition: Callable[[], bool], *, within: float) -> None:
        async with asyncio.timeout(within):
            while not condition():
                self._changed.clear()
                await self._changed.wait()

    async def wait_while_arriving(self, condition: Callable[[], bool], *, stall_s: float) -> None:
        """Until `condition`, as long as records keep arriving: `TimeoutError` only when none
        came for `stall_s`. A slow, busy machine takes longer; only a stall fails."""
        while not condition():
            self._changed.clear()
            async with asyncio.timeout(stall_s):
                await self._changed.wait()


def chunks(items: list[M], size: int) -> Iterable[list[M]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def group_assignment(bootstrap: str, group: str, topic: str) -> list[set[int]]:
    """The partitions of `topic` each live member of `group` holds, as the broker sees it."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([group])
    finally:
        await admin.close()
    [described] = response.to_object()["groups"]
    held: list[set[int]] = []
    for member in described["members"]:
        raw = member["member_assignment"]
        assignment = ConsumerProtocolMemberAssignment.decode(raw) if raw else None
        partitions: set[int] = set()
        for name, numbers in assignment.assignment if assignment else ():
            if name == topic:
                partitions.update(numbers)
        held.append(partitions)
    return held
