"""The bus port's contract, run against the in-memory bus and against Kafka (a real broker
from the test harness), so the embedded default cannot drift from production."""

import asyncio
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from integrations.bus import Bus, BusUnavailable, InMemoryBus, Record
from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from integrations.contracts.codec import decode, encode
from integrations.contracts.messages.webhooks import WebhookEventReceived
from tests.harness.kafka import create_topic, unique_name

pytestmark = pytest.mark.contract

SOURCE = "/integrations/contract-tests"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def event(webhook_id: str = "wh-1", event_id: str = "ev-1") -> WebhookEventReceived:
    return WebhookEventReceived(
        event_id=event_id,
        provider="github",
        webhook_id=webhook_id,
        user_id="user-1",
        event_type="push",
        payload={"event": event_id},
        received_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def event_id_of(record: Record) -> str:
    message = decode(record.headers, record.value)
    assert isinstance(message, WebhookEventReceived)
    return message.event_id


@dataclass
class Kit:
    """One adapter under test: fresh topics and buses, all stopped after the test."""

    kind: str
    within: float
    stack: AsyncExitStack
    bootstrap: str = ""
    _buses: list[Bus] = field(default_factory=list)

    async def topic(self, *, partitions: int = 3, compacted: bool = False) -> str:
        name = unique_name("contract-bus")
        if self.kind == "kafka":
            config = {"cleanup.policy": "compact"} if compacted else {}
            await create_topic(self.bootstrap, name, partitions, config)
        return name

    def bus(self) -> Bus:
        """A bus not started yet (subscriptions registered before start are tested too)."""
        bus: Bus
        if self.kind == "memory":
            bus = InMemoryBus(redelivery_delay_s=0.05, trace_context=lambda: (TRACEPARENT, None))
        else:
            settings = KafkaSettings(
                bootstrap_servers=self.bootstrap,
                client_id=f"contract-{uuid.uuid4().hex[:8]}",
                redelivery_delay_s=0.05,
                publish_timeout_s=10,
                connect_timeout_s=10,
            )
            bus = KafkaBus(settings, trace_context=lambda: (TRACEPARENT, None))
        self.stack.push_async_callback(bus.stop)
        return bus

    async def started(self) -> Bus:
        bus = self.bus()
        await bus.start()
        return bus

    async def eventually(self, check: Callable[[], bool], what: str) -> None:
        try:
            async with asyncio.timeout(self.within):
                while not check():  # noqa: ASYNC110 - polling handler-side state
                    await asyncio.sleep(0.02)
        except TimeoutError:
            raise AssertionError(f"{what} (waited {self.within:.0f} s)") from None


@pytest.fixture(params=["memory", pytest.param("kafka", marks=pytest.mark.integration)])
async def kit(request: pytest.FixtureRequest) -> AsyncIterator[Kit]:
    async with AsyncExitStack() as stack:
        if request.param == "memory":
            yield Kit("memory", within=3.0, stack=stack)
        else:
            bootstrap: str = request.getfixturevalue("kafka_bootstrap")
            yield Kit("kafka", within=30.0, stack=stack, bootstrap=bootstrap)


class Collector:
    def __init__(self) -> None:
        self.records: list[Record] = []

    async def __call__(self, record: Record) -> None:
        self.records.append(record)

    @property
    def event_ids(self) -> list[str]:
        return [event_id_of(record) for record in self.records]


async def test_a_group_subscriber_receives_the_record_with_key_and_headers(kit: Kit) -> None:
    topic = await kit.topic()
    bus = kit.bus()
    received = Collector()
    bus.subscribe(topic, received, group=unique_name("g"))
    await bus.start()

    await bus.publish(topic, event(), source=SOURCE)

    await kit.eventually(lambda: len(received.records) == 1, "record delivered")
    [record] = received.records
    assert record.topic == topic
    assert record.key == "wh-1"
    assert record.value == encode(event())
    assert record.header("ce_type") == WebhookEventReceived.ce_type.encode()
    assert record.header("ce_source") == SOURCE.encode()
    assert record.header("ce_specversion") == b"1.0"
    assert record.header("content-type") == b"application/json"
    assert record.header("traceparent") == TRACEPARENT.encode()
    assert record.timestamp_ms > 0


async def test_a_subscription_registered_on_a_running_bus_starts_at_once(kit: Kit) -> None:
    topic = await kit.topic()
    bus = await kit.started()
    await bus.publish(topic, event(), source=SOURCE)

    received = Collector()
    bus.subscribe(topic, received, group=unique_name("g"))

    await kit.eventually(lambda: received.event_ids == ["ev-1"], "earlier record delivered")


async def test_a_record_whose_handler_raised_is_delivered_again(kit: Kit) -> None:
    topic = await kit.topic()
    bus = kit.bus()
    attempts: list[tuple[int, int]] = []

    async def flaky(record: Record) -> None:
        attempts.append((record.partition, record.offset))
        if len(attempts) < 3:
            raise RuntimeError("not yet")

    bus.subscribe(topic, flaky, group=unique_name("g"))
    await bus.start()
    await bus.publish(topic, event(), source=SOURCE)
    await bus.publish(topic, event(event_id="ev-2"), source=SOURCE)

    await kit.eventually(lambda: len(attempts) == 4, "first record retried, then the second")
    assert attempts[0] == attempts[1] == attempts[2]
    assert attempts[3] == (attempts[0][0], attempts[0][1] + 1)


async def test_every_group_receives_every_record(kit: Kit) -> None:
    topic = await kit.topic()
    bus = kit.bus()
    dispatcher, audit = Collector(), Collector()
    bus.subscribe(topic, dispatcher, group=unique_name("dispatcher"))
    bus.subscribe(topic, audit, group=unique_name("audit"))
    await bus.start()

    for n in range(5):
        await bus.publish(topic, event(webhook_id=f"wh-{n}", event_id=f"ev-{n}"), source=SOURCE)

    expected = {f"ev-{n}" for n in range(5)}
    await kit.eventually(
        lambda: set(dispatcher.event_ids) == set(audit.event_ids) == expected,
        "both groups got all five",
    )


async def test_subscriptions_of_one_group_share_its_records(kit: Kit) -> None:
    topic = await kit.topic(partitions=4)
    bus = kit.bus()
    first, second = Collector(), Collector()
    group = unique_name("g")
    bus.subscribe(topic, first, group=group)
    bus.subscribe(topic, second, group=group)
    await bus.start()

    # Kafka assigns partitions once both members have joined: publish until both have work.
    published: set[str] = set()
    async with asyncio.timeout(kit.within):
        while not (first.records and second.records):
            for n in range(len(published), len(published) + 8):
                await bus.publish(
                    topic, event(webhook_id=f"wh-{n}", event_id=f"ev-{n}"), source=SOURCE
                )
                published.add(f"ev-{n}")
            await asyncio.sleep(0.2)

    def all_delivered() -> bool:
        return set(first.event_ids) | set(second.event_ids) == published

    await kit.eventually(all_delivered, "every record delivered within the group")
    # Shared, not broadcast: each record went to one member (at least once).
    assert len(first.records) + len(second.records) < 2 * len(published)


async def test_records_with_one_key_are_handled_in_publish_order(kit: Kit) -> None:
    topic = await kit.topic(partitions=3)
    bus = kit.bus()
    seen: dict[str | None, list[str]] = defaultdict(list)

    async def record_order(record: Record) -> None:
        seen[record.key].append(event_id_of(record))

    bus.subscribe(topic, record_order, group=unique_name("g"))
    await bus.start()
    for n in range(30):
        await bus.publish(
            topic, event(webhook_id=f"wh-{n % 4}", event_id=f"ev-{n:02}"), source=SOURCE
        )

    await kit.eventually(lambda: sum(map(len, seen.values())) >= 30, "all thirty handled")
    for key, event_ids in seen.items():
        assert event_ids == sorted(event_ids), key


class WebhookView:
    """What the ingress and dispatcher build from the compacted webhooks topic."""

    def __init__(self) -> None:
        self.state: dict[str | None, str] = {}

    async def __call__(self, record: Record) -> None:
        if record.value is None:
            self.state.pop(record.key, None)
        else:
            self.state[record.key] = event_id_of(record)


async def test_a_view_catches_up_with_the_latest_state_and_applies_tombstones(
    kit: Kit,
) -> None:
    topic = await kit.topic(partitions=2, compacted=True)
    bus = await kit.started()
    await bus.publish(topic, event(webhook_id="a", event_id="a1"), source=SOURCE)
    await bus.publish(topic, event(webhook_id="a", event_id="a2"), source=SOURCE)
    await bus.publish(topic, event(webhook_id="b", event_id="b1"), source=SOURCE)
    await bus.publish(topic, None, key="b", source=SOURCE)

    projection = WebhookView()
    view = bus.subscribe_view(topic, projection)
    await asyncio.wait_for(view.caught_up.wait(), kit.within)
    assert projection.state == {"a": "a2"}

    await bus.publish(topic, None, key="a", source=SOURCE)
    await bus.publish(topic, event(webhook_id="c", event_id="c1"), source=SOURCE)
    await kit.eventually(lambda: projection.state == {"c": "c1"}, "live updates applied")


async def test_a_view_of_an_empty_topic_is_caught_up_at_once(kit: Kit) -> None:
    topic = await kit.topic(compacted=True)
    bus = kit.bus()
    view = bus.subscribe_view(topic, WebhookView())
    assert not view.caught_up.is_set()
    await bus.start()
    await asyncio.wait_for(view.caught_up.wait(), kit.within)


async def test_an_expectation_returns_the_first_match_published_after_entering(
    kit: Kit,
) -> None:
    topic = await kit.topic()
    bus = await kit.started()
    await bus.publish(topic, event(event_id="before"), source=SOURCE)

    def is_wh_1(record: Record) -> bool:
        return record.key == "wh-1"

    async with bus.expect(topic, is_wh_1) as expectation:
        await bus.publish(topic, event(webhook_id="wh-2", event_id="other"), source=SOURCE)
        await bus.publish(topic, event(event_id="after"), source=SOURCE)
        record = await expectation.wait(kit.within)

    assert event_id_of(record) == "after"


async def test_an_expectation_without_a_match_times_out(kit: Kit) -> None:
    topic = await kit.topic()
    bus = await kit.started()

    async with bus.expect(topic, lambda record: record.key == "never") as expectation:
        await bus.publish(topic, event(), source=SOURCE)
        with pytest.raises(TimeoutError):
            await expectation.wait(0.5)


async def test_publish_raw_round_trips_value_key_and_headers(kit: Kit) -> None:
    topic = await kit.topic()
    bus = await kit.started()
    headers = [("ce_type", b"x.y.z.v1"), ("x-attempt", b"3")]

    async with bus.expect(topic, lambda _: True) as expectation:
        await bus.publish_raw(topic, "k", b'{"raw": true}', headers)
        record = await expectation.wait(kit.within)

    assert (record.key, record.value) == ("k", b'{"raw": true}')
    assert record.header("ce_type") == b"x.y.z.v1"
    assert record.header("x-attempt") == b"3"


async def test_a_stopped_bus_is_unhealthy_and_refuses_to_publish(kit: Kit) -> None:
    topic = await kit.topic()
    bus = kit.bus()
    with pytest.raises(BusUnavailable):
        await bus.publish(topic, event(), source=SOURCE)

    await bus.start()
    assert await bus.health()

    await bus.stop()
    assert not await bus.health()
    with pytest.raises(BusUnavailable):
        await bus.publish(topic, event(), source=SOURCE)
