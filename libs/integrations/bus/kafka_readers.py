"""Group-less readers on raw aiokafka: views and the tail behind `expect()`.

Both need what FastStream's subscribers hide: every partition of a topic without a group,
the end offsets as they were at start (to know when a view has caught up), and a position
resolved before the caller goes on (so an expectation misses nothing published after it).
"""

import asyncio
import logging
from typing import Any, Literal

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import ConsumerStoppedError, KafkaError

from integrations.bus.handling import apply_to_view
from integrations.bus.ports import Handler, Predicate, Record
from integrations.bus.settings import KafkaSettings

log = logging.getLogger("integrations.bus.kafka")

_POLL_MS = 500
_RETRY_S = 1.0
_ASSIGNMENT_POLL_S = 0.02
# A reader whose topic does not exist yet looks for it this often.
_METADATA_MAX_AGE_MS = 10_000


def to_record(raw: ConsumerRecord[Any, Any]) -> Record:
    key: bytes | None = raw.key
    return Record(
        topic=raw.topic,
        partition=raw.partition,
        offset=raw.offset,
        key=None if key is None else key.decode(errors="replace"),
        value=raw.value,
        headers=tuple((name, value or b"") for name, value in raw.headers),
        timestamp_ms=raw.timestamp,
    )


class TopicReader:
    """One consumer over every partition of one topic, outside any consumer group."""

    def __init__(
        self, topic: str, settings: KafkaSettings, *, start_at: Literal["earliest", "latest"]
    ) -> None:
        self.topic = topic
        self._settings = settings
        self._start_at = start_at
        # Made in open(): an aiokafka client created but never stopped warns when collected.
        self._consumer: AIOKafkaConsumer | None = None
        self.partitions: frozenset[TopicPartition] = frozenset()

    async def open(self) -> None:
        """Connect, take every partition, and resolve the start positions."""
        consumer = self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self._settings.servers,
            client_id=self._settings.client_id,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset=self._start_at,
            request_timeout_ms=int(self._settings.request_timeout_s * 1000),
            max_partition_fetch_bytes=self._settings.max_message_bytes,
            metadata_max_age_ms=_METADATA_MAX_AGE_MS,
        )
        while True:
            try:
                await consumer.start()
                break
            except KafkaError:
                log.warning("cannot reach Kafka for %s; retrying", self.topic, exc_info=True)
                await asyncio.sleep(_RETRY_S)
        # Without a group, subscribe() assigns all partitions once metadata names the topic;
        # a topic that does not exist yet keeps this waiting (views stay not ready).
        consumer.subscribe([self.topic])
        while not consumer.assignment():  # noqa: ASYNC110 - no group, no rebalance event
            await asyncio.sleep(_ASSIGNMENT_POLL_S)
        self.partitions = consumer.assignment()
        for partition in self.partitions:
            await consumer.position(partition)

    @property
    def consumer(self) -> AIOKafkaConsumer:
        if self._consumer is None:
            raise RuntimeError(f"the reader of {self.topic} is not open")
        return self._consumer

    async def end_offsets(self) -> dict[int, int]:
        ends = await self.consumer.end_offsets(list(self.partitions))
        return {partition.partition: offset for partition, offset in ends.items()}

    async def reached(self, ends: dict[int, int]) -> bool:
        for partition in self.partitions:
            if await self.consumer.position(partition) < ends.get(partition.partition, 0):
                return False
        return True

    async def batch(self) -> list[Record]:
        """The next records (maybe none after a short wait); broker errors are retried."""
        try:
            batches = await self.consumer.getmany(timeout_ms=_POLL_MS)
        except ConsumerStoppedError:
            raise
        except KafkaError:
            log.warning("reading %s failed; retrying", self.topic, exc_info=True)
            await asyncio.sleep(_RETRY_S)
            return []
        return [to_record(raw) for records in batches.values() for raw in records]

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.stop()


class KafkaView:
    def __init__(self, topic: str, handler: Handler, settings: KafkaSettings) -> None:
        self._topic = topic
        self._handler = handler
        self._settings = settings
        self._caught_up = asyncio.Event()

    @property
    def topic(self) -> str:
        return self._topic

    @property
    def caught_up(self) -> asyncio.Event:
        return self._caught_up

    async def run(self) -> None:
        reader = TopicReader(self._topic, self._settings, start_at="earliest")
        try:
            await reader.open()
            ends = await reader.end_offsets()
            while True:
                for record in await reader.batch():
                    await apply_to_view(self._handler, record)
                if not self._caught_up.is_set() and await reader.reached(ends):
                    self._caught_up.set()
        finally:
            await reader.close()


class _TailExpectation:
    """Fed by the tail; keeps the first record at or past the entry offsets that matches."""

    def __init__(self, predicate: Predicate) -> None:
        self._predicate = predicate
        self._entry_offsets: dict[int, int] | None = None
        self._early: list[Record] = []
        self._result: asyncio.Future[Record] = asyncio.get_running_loop().create_future()

    def offer(self, record: Record) -> None:
        if self._result.done():
            return
        if self._entry_offsets is None:
            self._early.append(record)
        elif record.offset >= self._entry_offsets.get(record.partition, 0):
            try:
                matched = self._predicate(record)
            except Exception as error:
                self._result.set_exception(error)
                return
            if matched:
                self._result.set_result(record)

    def entered_at(self, offsets: dict[int, int]) -> None:
        self._entry_offsets = offsets
        early, self._early = self._early, []
        for record in early:
            self.offer(record)

    async def wait(self, timeout: float) -> Record:  # noqa: ASYNC109 - the port's signature
        return await asyncio.wait_for(asyncio.shield(self._result), timeout)

    def close(self) -> None:
        if self._result.done() and not self._result.cancelled():
            self._result.exception()  # retrieved: no "never retrieved" report at exit
        self._result.cancel()


class Tail:
    """Follows one topic from its end and hands each record to the open expectations."""

    def __init__(self, topic: str, settings: KafkaSettings) -> None:
        self._reader = TopicReader(topic, settings, start_at="latest")
        self._expectations: set[_TailExpectation] = set()
        self.positioned = asyncio.Event()

    async def run(self) -> None:
        try:
            await self._reader.open()
            self.positioned.set()
            while True:
                for record in await self._reader.batch():
                    for expectation in list(self._expectations):
                        expectation.offer(record)
        finally:
            await self._reader.close()

    async def enter(self, predicate: Predicate) -> _TailExpectation:
        """An expectation that sees every record published from now on (once positioned)."""
        await self.positioned.wait()
        expectation = _TailExpectation(predicate)
        # Registered before the end offsets are read: whatever lands after them reaches it.
        self._expectations.add(expectation)
        try:
            expectation.entered_at(await self._reader.end_offsets())
        except BaseException:
            self.leave(expectation)
            raise
        return expectation

    def leave(self, expectation: _TailExpectation) -> None:
        self._expectations.discard(expectation)
        expectation.close()
