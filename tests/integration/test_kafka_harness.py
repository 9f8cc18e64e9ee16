"""Smoke tests proving the Kafka harness runs a real broker: groups, commits, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage

from tests.harness.kafka import KafkaServer, create_topic, unique_name

pytestmark = pytest.mark.integration

TIMEOUT = 30.0


async def _eventually(check: Callable[[], bool], what: str, within: float = TIMEOUT) -> None:
    try:
        async with asyncio.timeout(within):
            while True:
                if check():
                    return
                await asyncio.sleep(0.05)
    except TimeoutError:
        raise AssertionError(f"{what} (waited {within:.0f} s)") from None


@asynccontextmanager
async def _faststream_consumer(
    bootstrap: str,
    topic: str,
    group: str,
    received: asyncio.Queue[str],
) -> AsyncIterator[KafkaBroker]:
    """A FastStream app with one manual-ack subscriber: acks bodies starting with "ack"."""
    broker = KafkaBroker(bootstrap, logger=None)

    @broker.subscriber(
        topic,
        group_id=group,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.MANUAL,
    )
    async def handle(body: str, msg: KafkaMessage) -> None:
        if body.startswith("ack"):
            await msg.ack()
        await received.put(body)

    await broker.start()
    try:
        yield broker
    finally:
        await broker.stop()


async def _next(queue: asyncio.Queue[str]) -> str:
    return await asyncio.wait_for(queue.get(), TIMEOUT)


async def test_faststream_manual_ack_commits_only_acked_messages(kafka_bootstrap: str) -> None:
    topic, group = unique_name("harness-ack"), unique_name("harness-ack-group")
    await create_topic(kafka_bootstrap, topic, partitions=1)

    first: asyncio.Queue[str] = asyncio.Queue()
    async with _faststream_consumer(kafka_bootstrap, topic, group, first) as broker:
        await broker.publish("ack-1", topic=topic)
        assert await _next(first) == "ack-1"
        await broker.publish("noack-2", topic=topic)
        assert await _next(first) == "noack-2"

    # Same group again: the acked record's offset was committed, the un-acked one was not.
    second: asyncio.Queue[str] = asyncio.Queue()
    async with _faststream_consumer(kafka_bootstrap, topic, group, second) as broker:
        assert await _next(second) == "noack-2"
        await broker.publish("ack-3", topic=topic)
        assert await _next(second) == "ack-3"
    assert second.empty()


async def test_two_group_members_split_the_partitions(kafka_bootstrap: str) -> None:
    topic, group = unique_name("harness-split"), unique_name("harness-split-group")
    partitions = 4
    await create_topic(kafka_bootstrap, topic, partitions=partitions)
    everything = {TopicPartition(topic, p) for p in range(partitions)}

    consumers = [
        AIOKafkaConsumer(
            topic,
            bootstrap_servers=kafka_bootstrap,
            group_id=group,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            heartbeat_interval_ms=300,  # notice the rebalance quickly (default 3 s)
        )
        for _ in range(2)
    ]
    received: list[list[TopicPartition]] = [[], []]

    async def poll(index: int) -> None:
        while True:
            batches = await consumers[index].getmany(timeout_ms=200)
            for tp, records in batches.items():
                received[index].extend(tp for _ in records)

    for consumer in consumers:
        await consumer.start()
    try:
        async with asyncio.TaskGroup() as tasks:
            pollers = [tasks.create_task(poll(i)) for i in range(2)]

            def split() -> bool:
                # Mid-rebalance the old member may still hold everything: wait for the end.
                first, second = (c.assignment() for c in consumers)
                return (
                    bool(first)
                    and bool(second)
                    and first.isdisjoint(second)
                    and first | second == everything
                )

            await _eventually(split, "the group never split the partitions")
            first, second = (set(c.assignment()) for c in consumers)

            producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
            await producer.start()
            try:
                for p in range(partitions):
                    await producer.send_and_wait(topic, f"to-{p}".encode(), partition=p)
            finally:
                await producer.stop()

            await _eventually(
                lambda: len(received[0]) + len(received[1]) == partitions,
                "not every record was consumed",
            )
            for poller in pollers:
                poller.cancel()
    finally:
        for consumer in consumers:
            await consumer.stop()

    # Each member consumed exactly the records of its own partitions.
    assert set(received[0]) == first
    assert set(received[1]) == second


async def _produce(bootstrap: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _consume_all(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=unique_name("harness-reader"),
        auto_offset_reset="earliest",
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(TIMEOUT):
            while len(values) < count:
                record = await consumer.getone()
                assert record.value is not None
                values.append(record.value)
    finally:
        await consumer.stop()
    return values


@pytest.mark.parametrize(
    "bounce",
    [
        pytest.param(lambda server: server.arestart(), id="graceful-restart"),
        pytest.param(lambda server: server.arestart(graceful=False), id="kill-and-start"),
    ],
)
async def test_restart_keeps_address_and_data(
    kafka_fault_server: KafkaServer,
    kafka_bootstrap: str,
    bounce: Callable[[KafkaServer], Awaitable[None]],
) -> None:
    topic = unique_name("harness-restart")
    await create_topic(kafka_bootstrap, topic, partitions=1)
    await _produce(kafka_bootstrap, topic, b"before")

    # A client connected before the restart keeps working afterwards: same address.
    survivor = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await survivor.start()
    try:
        await bounce(kafka_fault_server)
        assert kafka_fault_server.bootstrap_servers == kafka_bootstrap
        await survivor.send_and_wait(topic, b"after")
    finally:
        await survivor.stop()

    assert await _consume_all(kafka_bootstrap, topic, 2) == [b"before", b"after"]
