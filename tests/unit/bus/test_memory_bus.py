"""The in-memory bus: Kafka's semantics as far as a service can observe them."""

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from integrations.bus import Bus, BusUnavailable, InMemoryBus, Record
from integrations.contracts.codec import decode, encode
from integrations.contracts.messages.webhooks import WebhookEventReceived

pytestmark = pytest.mark.unit

TOPIC = "test.events"
SOURCE = "/integrations/tests"
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def event(webhook_id: str = "wh-1", event_id: str = "ev-1") -> WebhookEventReceived:
    return WebhookEventReceived(
        event_id=event_id,
        provider="github",
        webhook_id=webhook_id,
        user_id="user-1",
        event_type="push",
        payload={"n": event_id},
        received_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


class Collector:
    def __init__(self) -> None:
        self.records: list[Record] = []

    async def __call__(self, record: Record) -> None:
        self.records.append(record)


@pytest.fixture
async def bus() -> AsyncIterator[InMemoryBus]:
    bus = InMemoryBus(partitions=4, redelivery_delay_s=0.01, trace_context=lambda: (None, None))
    await bus.start()
    yield bus
    await bus.stop()


def test_the_in_memory_bus_implements_the_port() -> None:
    bus: Bus = InMemoryBus()
    assert bus is not None


async def test_a_subscriber_receives_the_published_message_with_its_cloudevents_headers(
    bus: InMemoryBus,
) -> None:
    collector = Collector()
    bus.subscribe(TOPIC, collector, group="g")

    await bus.publish(TOPIC, event(), source=SOURCE)
    await bus.drain()

    [record] = collector.records
    assert record.key == "wh-1"
    assert record.value == encode(event())
    assert decode(record.headers, record.value) == event()
    assert record.header("ce_type") == WebhookEventReceived.ce_type.encode()
    assert record.header("ce_source") == SOURCE.encode()
    assert record.header("content-type") == b"application/json"


async def test_publish_adds_the_current_traceparent() -> None:
    bus = InMemoryBus(trace_context=lambda: (TRACEPARENT, "vendor=1"))
    await bus.start()
    async with bus.expect(TOPIC, lambda _: True) as expectation:
        await bus.publish(TOPIC, event(), source=SOURCE)
        record = await expectation.wait(1)
    await bus.stop()
    assert record.header("traceparent") == TRACEPARENT.encode()
    assert record.header("tracestate") == b"vendor=1"


async def test_extra_headers_are_published_but_cannot_replace_the_bus_headers(
    bus: InMemoryBus,
) -> None:
    async with bus.expect(TOPIC, lambda _: True) as expectation:
        await bus.publish(TOPIC, event(), source=SOURCE, headers={"x-replay": "1"})
        record = await expectation.wait(1)
    assert record.header("x-replay") == b"1"
    with pytest.raises(ValueError, match="ce_id"):
        await bus.publish(TOPIC, event(), source=SOURCE, headers={"ce_id": "mine"})


async def test_handlers_run_in_their_own_tasks_not_inside_publish(bus: InMemoryBus) -> None:
    release = asyncio.Event()

    async def blocked(record: Record) -> None:
        await release.wait()

    bus.subscribe(TOPIC, blocked, group="g")
    await asyncio.wait_for(bus.publish(TOPIC, event(), source=SOURCE), 1)
    release.set()
    await bus.drain()


async def test_subscriptions_of_one_group_share_the_records(bus: InMemoryBus) -> None:
    first, second = Collector(), Collector()
    bus.subscribe(TOPIC, first, group="g")
    bus.subscribe(TOPIC, second, group="g")

    for n in range(40):
        await bus.publish(TOPIC, event(webhook_id=f"wh-{n}", event_id=f"ev-{n}"), source=SOURCE)
    await bus.drain()

    offsets = [(r.partition, r.offset) for r in first.records + second.records]
    assert len(offsets) == 40 == len(set(offsets))
    assert first.records
    assert second.records


async def test_every_group_receives_every_record(bus: InMemoryBus) -> None:
    first, second = Collector(), Collector()
    bus.subscribe(TOPIC, first, group="dispatcher")
    bus.subscribe(TOPIC, second, group="audit")

    for n in range(5):
        await bus.publish(TOPIC, event(event_id=f"ev-{n}"), source=SOURCE)
    await bus.drain()

    assert len(first.records) == len(second.records) == 5


async def test_a_record_whose_handler_raised_is_delivered_again(bus: InMemoryBus) -> None:
    attempts: list[int] = []

    async def flaky(record: Record) -> None:
        attempts.append(record.offset)
        if len(attempts) < 3:
            raise RuntimeError("not yet")

    bus.subscribe(TOPIC, flaky, group="g")
    await bus.publish(TOPIC, event(), source=SOURCE)
    await bus.drain()

    assert attempts == [0, 0, 0]


async def test_a_failing_partition_does_not_hold_back_the_others(bus: InMemoryBus) -> None:
    handled = Collector()

    async def poisoned(record: Record) -> None:
        if record.key == "wh-poison":
            raise RuntimeError("never works")
        await handled(record)

    bus.subscribe(TOPIC, poisoned, group="g")
    await bus.publish(TOPIC, event(webhook_id="wh-poison"), source=SOURCE)
    others = [f"wh-{n}" for n in range(12)]
    for webhook_id in others:
        await bus.publish(TOPIC, event(webhook_id=webhook_id), source=SOURCE)

    records = [r for partition in bus.log_of(TOPIC) for r in partition]
    [poison_partition] = {r.partition for r in records if r.key == "wh-poison"}
    expected = {r.key for r in records if r.partition != poison_partition}
    assert expected

    async def all_others_handled() -> None:
        while {r.key for r in handled.records} != expected:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    await asyncio.wait_for(all_others_handled(), 2)
    with pytest.raises(TimeoutError):
        await bus.drain(timeout=0.1)


async def test_records_with_the_same_key_are_handled_in_publish_order(bus: InMemoryBus) -> None:
    seen: dict[str | None, list[str]] = defaultdict(list)

    async def slow(record: Record) -> None:
        await asyncio.sleep(0.001 * (record.offset % 3))
        message = decode(record.headers, record.value)
        assert isinstance(message, WebhookEventReceived)
        seen[record.key].append(message.event_id)

    bus.subscribe(TOPIC, slow, group="g")
    bus.subscribe(TOPIC, slow, group="g")
    for n in range(30):
        await bus.publish(
            TOPIC, event(webhook_id=f"wh-{n % 5}", event_id=f"ev-{n:02}"), source=SOURCE
        )
    await bus.drain()

    for key, event_ids in seen.items():
        assert event_ids == sorted(event_ids), key
    assert sum(len(ids) for ids in seen.values()) == 30


async def test_a_new_group_starts_from_the_earliest_record(bus: InMemoryBus) -> None:
    await bus.publish(TOPIC, event(), source=SOURCE)
    late = Collector()
    bus.subscribe(TOPIC, late, group="late")
    await bus.drain()
    assert len(late.records) == 1


async def test_a_view_replays_the_latest_value_per_key_and_leaves_out_deleted_keys(
    bus: InMemoryBus,
) -> None:
    await bus.publish(TOPIC, event(webhook_id="a", event_id="a1"), source=SOURCE)
    await bus.publish(TOPIC, event(webhook_id="a", event_id="a2"), source=SOURCE)
    await bus.publish(TOPIC, event(webhook_id="b", event_id="b1"), source=SOURCE)
    await bus.publish(TOPIC, None, key="b", source=SOURCE)

    state = Collector()
    view = bus.subscribe_view(TOPIC, state)
    await asyncio.wait_for(view.caught_up.wait(), 1)

    [record] = state.records
    assert record.key == "a"
    assert decode(record.headers, record.value) == event(webhook_id="a", event_id="a2")


async def test_a_view_follows_updates_and_tombstones_after_catching_up(
    bus: InMemoryBus,
) -> None:
    state: dict[str | None, bytes] = {}

    async def apply(record: Record) -> None:
        if record.value is None:
            state.pop(record.key, None)
        else:
            state[record.key] = record.value

    view = bus.subscribe_view(TOPIC, apply)
    await asyncio.wait_for(view.caught_up.wait(), 1)
    assert view.topic == TOPIC

    await bus.publish(TOPIC, event(webhook_id="a"), source=SOURCE)
    await bus.publish(TOPIC, event(webhook_id="b"), source=SOURCE)
    await bus.drain()
    assert set(state) == {"a", "b"}

    await bus.publish(TOPIC, None, key="a", source=SOURCE)
    await bus.drain()
    assert set(state) == {"b"}


async def test_a_view_skips_a_record_its_handler_cannot_apply(bus: InMemoryBus) -> None:
    applied = Collector()

    async def picky(record: Record) -> None:
        if record.key == "bad":
            raise ValueError("cannot apply")
        await applied(record)

    bus.subscribe_view(TOPIC, picky)
    await bus.publish(TOPIC, event(webhook_id="bad"), source=SOURCE)
    await bus.publish(TOPIC, event(webhook_id="good"), source=SOURCE)
    await bus.drain()
    assert [r.key for r in applied.records] == ["good"]


async def test_a_view_registered_before_start_catches_up_at_start() -> None:
    bus = InMemoryBus()
    view = bus.subscribe_view(TOPIC, Collector())
    assert not view.caught_up.is_set()
    await bus.start()
    await asyncio.wait_for(view.caught_up.wait(), 1)
    await bus.stop()


async def test_an_expectation_sees_only_records_published_after_it_was_entered(
    bus: InMemoryBus,
) -> None:
    await bus.publish(TOPIC, event(event_id="before"), source=SOURCE)

    async with bus.expect(TOPIC, lambda r: r.key == "wh-1") as expectation:
        await bus.publish(TOPIC, event(webhook_id="other", event_id="other"), source=SOURCE)
        await bus.publish(TOPIC, event(event_id="after"), source=SOURCE)
        record = await expectation.wait(1)

    message = decode(record.headers, record.value)
    assert isinstance(message, WebhookEventReceived)
    assert message.event_id == "after"


async def test_an_expectation_with_no_matching_record_times_out(bus: InMemoryBus) -> None:
    async with bus.expect(TOPIC, lambda r: r.key == "never") as expectation:
        await bus.publish(TOPIC, event(), source=SOURCE)
        with pytest.raises(TimeoutError):
            await expectation.wait(0.05)


async def test_a_tombstone_needs_a_key(bus: InMemoryBus) -> None:
    with pytest.raises(ValueError, match="key"):
        await bus.publish(TOPIC, None, source=SOURCE)


async def test_publish_raw_keeps_value_and_headers_as_they_are(bus: InMemoryBus) -> None:
    async with bus.expect(TOPIC, lambda _: True) as expectation:
        await bus.publish_raw(TOPIC, "k", b"\x00raw", [("h", b"\xff"), ("h", b"2")])
        record = await expectation.wait(1)
    assert (record.key, record.value, record.headers) == (
        "k",
        b"\x00raw",
        (("h", b"\xff"), ("h", b"2")),
    )
    assert record.header("H") == b"2"


async def test_publishing_on_a_stopped_bus_raises_bus_unavailable() -> None:
    bus = InMemoryBus()
    with pytest.raises(BusUnavailable):
        await bus.publish(TOPIC, event(), source=SOURCE)
    await bus.start()
    assert await bus.health()
    await bus.stop()
    assert not await bus.health()
    with pytest.raises(BusUnavailable):
        await bus.publish(TOPIC, event(), source=SOURCE)
