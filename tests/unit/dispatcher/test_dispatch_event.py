"""dispatch_event: fan-out, dedupe, retries, dead letters, traces and metrics."""

import dataclasses
from datetime import datetime, timedelta

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from integrations.bus import InMemoryBus, PublishRejected
from integrations.contracts import (
    DeadLetter,
    GraphExecutionRequested,
    decode_as,
    topics,
)
from integrations.dispatcher.adapters.processed_events import ProcessedEventsRepository
from integrations.dispatcher.context import Dispatcher
from integrations.dispatcher.domain.deliveries import Outcome
from integrations.dispatcher.domain.request_ids import request_id
from integrations.dispatcher.handlers import dispatch_event
from integrations.storage import Database, StorageUnavailable
from tests.unit.dispatcher.kit import (
    UNAVAILABLE,
    USER,
    WEBHOOK,
    Clock,
    FlakyBus,
    Sleeps,
    StaticWebhooks,
    build_dispatcher,
    event,
    node,
    preset,
    record_of,
    webhook,
)

pytestmark = pytest.mark.unit

STATE = webhook(
    nodes=[node("n-1", graph_id="graph-1")], presets=[preset("p-1", graph_id="graph-2")]
)
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def requests_on(bus: InMemoryBus) -> list[GraphExecutionRequested]:
    return [
        decode_as(GraphExecutionRequested, record.value)
        for partition in bus.log_of(topics.GRAPH_EXECUTION_REQUESTS)
        for record in partition
    ]


def letters_on(bus: InMemoryBus) -> list[DeadLetter]:
    return [
        decode_as(DeadLetter, record.value)
        for partition in bus.log_of(topics.WEBHOOK_EVENTS_DLQ)
        for record in partition
    ]


def expected_id(target: str, event_id: str = "delivery-1") -> str:
    return request_id(webhook_id=WEBHOOK, event_id=event_id, target=target)


async def delivery_outcome(d: Dispatcher, event_id: str = "delivery-1") -> Outcome:
    delivery = await d.deliveries.get(
        user_id=USER, webhook_id=WEBHOOK, event_id=event_id, now=d.clock()
    )
    assert delivery is not None
    return delivery.outcome


async def test_an_event_sends_one_request_per_matching_trigger_and_is_logged(
    bus: InMemoryBus, database: Database
) -> None:
    d = build_dispatcher(bus, database, StaticWebhooks(STATE))
    await dispatch_event(record_of(event()), d)

    assert {r.request_id for r in requests_on(bus)} == {
        expected_id("node:graph-1:n-1"),
        expected_id("preset:p-1"),
    }
    delivery = await d.deliveries.get(
        user_id=USER, webhook_id=WEBHOOK, event_id="delivery-1", now=d.clock()
    )
    assert delivery is not None
    assert delivery.outcome is Outcome.DISPATCHED
    assert {r.request_id for r in delivery.last_dispatch.requests} == {
        r.request_id for r in requests_on(bus)
    }
    assert await d.processed.contains(WEBHOOK, "delivery-1", now=d.clock())
    assert letters_on(bus) == []


async def test_a_record_seen_again_is_not_dispatched_again(
    bus: InMemoryBus, database: Database
) -> None:
    """Dedupe: a provider retry (same delivery id) or a redelivered record."""
    d = build_dispatcher(bus, database, StaticWebhooks(STATE))
    await dispatch_event(record_of(event(), offset=0), d)
    await dispatch_event(record_of(event(), offset=1), d)
    assert len(requests_on(bus)) == 2


async def test_the_same_delivery_id_on_another_webhook_is_another_event(
    bus: InMemoryBus, database: Database
) -> None:
    other = webhook("wh-2", nodes=[node("n-7")])
    d = build_dispatcher(bus, database, StaticWebhooks(STATE, other))
    await dispatch_event(record_of(event()), d)
    await dispatch_event(record_of(event(webhook_id="wh-2"), key="wh-2"), d)
    assert len(requests_on(bus)) == 3


async def test_a_processed_record_expires_after_its_retention(
    bus: InMemoryBus, database: Database
) -> None:
    clock = Clock()
    d = build_dispatcher(bus, database, StaticWebhooks(STATE), clock=clock)
    await dispatch_event(record_of(event()), d)
    clock.advance(timedelta(days=9).total_seconds())
    await dispatch_event(record_of(event()), d)
    assert len(requests_on(bus)) == 4


async def test_a_failing_target_never_blocks_the_others_and_is_retried_with_backoff(
    bus: InMemoryBus, database: Database
) -> None:
    flaky = FlakyBus(bus, {"graph-2": UNAVAILABLE})

    class Heals(Sleeps):
        async def __call__(self, seconds: float) -> None:
            await super().__call__(seconds)
            flaky.failing.clear()

    sleeps = Heals()
    d = build_dispatcher(flaky, database, StaticWebhooks(STATE), sleep=sleeps)
    await dispatch_event(record_of(event()), d)

    assert sorted(r.graph_id for r in requests_on(bus)) == ["graph-1", "graph-2"]
    assert flaky.attempts == {"graph-1": 1, "graph-2": 2}  # only the failed one again
    assert sleeps.taken == [pytest.approx(0.0075)]
    delivery = await d.deliveries.get(
        user_id=USER, webhook_id=WEBHOOK, event_id="delivery-1", now=d.clock()
    )
    assert delivery is not None
    assert (delivery.outcome, delivery.last_dispatch.attempts) == (Outcome.DISPATCHED, 2)
    assert letters_on(bus) == []


async def test_a_target_that_always_fails_is_dead_lettered_after_the_last_attempt(
    bus: InMemoryBus, database: Database
) -> None:
    flaky = FlakyBus(bus, {"graph-2": UNAVAILABLE})
    sleeps = Sleeps()
    d = build_dispatcher(flaky, database, StaticWebhooks(STATE), sleep=sleeps)
    record = record_of(event())
    await dispatch_event(record, d)

    assert [r.graph_id for r in requests_on(bus)] == ["graph-1"]
    assert flaky.attempts == {"graph-1": 1, "graph-2": 3}
    assert sleeps.taken == [pytest.approx(0.0075), pytest.approx(0.015)]  # exponential
    [letter] = letters_on(bus)
    assert (letter.attempts, letter.error_type, letter.webhook_id) == (3, "TargetsFailed", WEBHOOK)
    assert expected_id("preset:p-1") in letter.error
    assert letter.original_value() == record.value
    assert letter.original_header_pairs() == list(record.headers)
    assert letter.consumer_group == "dispatcher-tests"
    # Not processed: a replay must dispatch it again.
    assert not await d.processed.contains(WEBHOOK, "delivery-1", now=d.clock())
    delivery = await d.deliveries.get(
        user_id=USER, webhook_id=WEBHOOK, event_id="delivery-1", now=d.clock()
    )
    assert delivery is not None
    assert delivery.outcome is Outcome.DEAD_LETTERED
    [failed] = delivery.last_dispatch.failed
    assert (failed.preset_id, failed.request_id) == ("p-1", expected_id("preset:p-1"))
    assert [r.graph_id for r in delivery.last_dispatch.requests] == ["graph-1"]


async def test_failures_while_the_broker_is_down_use_up_no_attempt(
    bus: InMemoryBus, database: Database
) -> None:
    """An outage longer than the retries must not dead-letter acknowledged events."""
    outage_checks = 6  # twice the dispatcher's 3 attempts

    class DownBroker(FlakyBus):
        async def health(self) -> bool:
            nonlocal outage_checks
            outage_checks -= 1
            if outage_checks == 0:
                self.failing.clear()  # the broker is back
            return outage_checks < 0

    flaky = DownBroker(bus, {"graph-2": UNAVAILABLE})
    sleeps = Sleeps()
    d = build_dispatcher(flaky, database, StaticWebhooks(STATE), sleep=sleeps)
    await dispatch_event(record_of(event()), d)

    assert sorted(r.graph_id for r in requests_on(bus)) == ["graph-1", "graph-2"]
    assert letters_on(bus) == []
    assert flaky.attempts == {"graph-1": 1, "graph-2": 7}
    assert len(sleeps.taken) == 6  # one backoff per failed attempt, outage or not
    assert await delivery_outcome(d) is Outcome.DISPATCHED


async def test_a_replayed_dead_letter_is_dispatched_with_its_original_request_ids(
    bus: InMemoryBus, database: Database
) -> None:
    flaky = FlakyBus(bus, {"graph-2": UNAVAILABLE})
    d = build_dispatcher(flaky, database, StaticWebhooks(STATE))
    await dispatch_event(record_of(event()), d)
    flaky.failing.clear()
    await dispatch_event(record_of(event(), offset=1), d)  # what `dlq replay` republishes

    ids = [r.request_id for r in requests_on(bus)]
    assert set(ids) == {expected_id("node:graph-1:n-1"), expected_id("preset:p-1")}
    assert await delivery_outcome(d) is Outcome.DISPATCHED
    assert await d.processed.contains(WEBHOOK, "delivery-1", now=d.clock())


async def test_a_request_the_broker_refuses_for_good_is_dead_lettered_at_once(
    bus: InMemoryBus, database: Database
) -> None:
    flaky = FlakyBus(bus, {"graph-2": PublishRejected("record too large")})
    sleeps = Sleeps()
    d = build_dispatcher(flaky, database, StaticWebhooks(STATE), sleep=sleeps)
    await dispatch_event(record_of(event()), d)

    assert [r.graph_id for r in requests_on(bus)] == ["graph-1"]
    [letter] = letters_on(bus)
    assert letter.attempts == 1
    assert "PublishRejected: record too large" in letter.error
    assert sleeps.taken == []


@pytest.mark.parametrize(
    ("value", "ce_type", "error_type"),
    [
        (b'{"event_id": "x"}', "integrations.webhook-event.received.v1", "InvalidMessage"),
        (b"\xff not json", "integrations.webhook-event.received.v1", "InvalidMessage"),
        (b"{}", "integrations.nope.v1", "UnknownMessageType"),
        (b"{}", None, "UnknownMessageType"),
    ],
)
async def test_a_record_that_is_not_a_valid_event_is_dead_lettered_at_once_and_consumption_goes_on(
    bus: InMemoryBus, database: Database, value: bytes, ce_type: str | None, error_type: str
) -> None:
    d = build_dispatcher(bus, database, StaticWebhooks(STATE))
    headers = [] if ce_type is None else [("ce_type", ce_type.encode())]
    await dispatch_event(record_of(None, value=value, headers=headers), d)
    await dispatch_event(record_of(event(), offset=1), d)

    [letter] = letters_on(bus)
    assert (letter.attempts, letter.error_type) == (1, error_type)
    assert letter.original_value() == value
    assert len(requests_on(bus)) == 2


async def test_a_dead_letter_with_an_unreadable_key_goes_out_without_a_key(
    bus: InMemoryBus, database: Database
) -> None:
    d = build_dispatcher(bus, database, StaticWebhooks(STATE))
    await dispatch_event(record_of(None, key=None, value=b"nope"), d)
    [record] = [r for p in bus.log_of(topics.WEBHOOK_EVENTS_DLQ) for r in p]
    assert record.key is None
    assert decode_as(DeadLetter, record.value).webhook_id is None


async def test_a_storage_outage_is_retried_like_any_transient_failure(
    bus: InMemoryBus, database: Database
) -> None:
    d = build_dispatcher(bus, database, StaticWebhooks(STATE))
    real = d.processed
    assert isinstance(real, ProcessedEventsRepository)
    failures = [StorageUnavailable("MongoDB unreachable")]

    class Outage:
        async def contains(self, webhook_id: str, event_id: str, *, now: datetime) -> bool:
            if failures:
                raise failures.pop()
            return await real.contains(webhook_id, event_id, now=now)

        async def add(self, webhook_id: str, event_id: str, *, now: datetime) -> None:
            await real.add(webhook_id, event_id, now=now)

    d = dataclasses.replace(d, processed=Outage())
    await dispatch_event(record_of(event()), d)
    assert len(requests_on(bus)) == 2
    assert letters_on(bus) == []


async def test_an_unknown_webhook_gets_a_short_grace_then_the_event_is_skipped(
    bus: InMemoryBus, database: Database
) -> None:
    sleeps = Sleeps()
    d = build_dispatcher(bus, database, StaticWebhooks(), sleep=sleeps, grace_s=0.3)
    await dispatch_event(record_of(event()), d)

    assert requests_on(bus) == []
    assert sleeps.taken == [0.1, 0.1, 0.1]
    delivery = await d.deliveries.get(
        user_id=USER, webhook_id=WEBHOOK, event_id="delivery-1", now=d.clock()
    )
    assert delivery is not None
    assert (delivery.outcome, delivery.last_dispatch.skip_reason) == (
        Outcome.SKIPPED,
        "webhook_unknown",
    )


async def test_a_webhook_that_reaches_the_view_during_the_grace_is_used(
    bus: InMemoryBus, database: Database
) -> None:
    webhooks = StaticWebhooks()

    class Arrives(Sleeps):
        async def __call__(self, seconds: float) -> None:
            await super().__call__(seconds)
            webhooks.rows[WEBHOOK] = STATE

    d = build_dispatcher(bus, database, webhooks, sleep=Arrives(), grace_s=2.0)
    await dispatch_event(record_of(event()), d)
    assert len(requests_on(bus)) == 2


async def test_requests_carry_the_trace_of_the_ingress_request(
    bus: InMemoryBus, database: Database
) -> None:
    """DESIGN §7: the ingress request's trace reaches every execution request."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    d = build_dispatcher(bus, database, StaticWebhooks(STATE), tracer_provider=provider)
    await dispatch_event(record_of(event(), traceparent=TRACEPARENT), d)

    [span] = exporter.get_finished_spans()
    assert span.parent is not None
    assert f"{span.parent.span_id:016x}" == "00f067aa0ba902b7"
    trace_id = TRACEPARENT.split("-")[1]
    records = [r for p in bus.log_of(topics.GRAPH_EXECUTION_REQUESTS) for r in p]
    assert len(records) == 2
    for record in records:
        traceparent = record.header("traceparent")
        assert traceparent is not None
        assert traceparent.decode().split("-")[1] == trace_id


async def test_metrics_count_what_happened_to_each_event(
    bus: InMemoryBus, database: Database
) -> None:
    reader = InMemoryMetricReader()
    meter = MeterProvider(metric_readers=[reader]).get_meter("tests")
    state = webhook(nodes=[node("n-1")], presets=[preset("p-off", is_active=False)])
    d = build_dispatcher(bus, database, StaticWebhooks(state), meter=meter)
    await dispatch_event(record_of(event()), d)
    await dispatch_event(record_of(event(), offset=1), d)  # a duplicate
    await dispatch_event(record_of(None, value=b"junk", headers=[]), d)

    points = {
        (metric.name, tuple(sorted((point.attributes or {}).items()))): point
        for resource in reader.get_metrics_data().resource_metrics  # type: ignore[union-attr]
        for scope in resource.scope_metrics
        for metric in scope.metrics
        for point in metric.data.data_points
    }

    def value(name: str, **attributes: str) -> object:
        return getattr(points[(name, tuple(sorted(attributes.items())))], "value", None)

    assert value("dispatcher.events.consumed") == 3
    assert value("dispatcher.requests.dispatched") == 1
    assert value("dispatcher.events.skipped", reason="duplicate") == 1
    assert value("dispatcher.triggers.skipped", reason="preset_inactive") == 1
    assert value("dispatcher.events.dead_lettered", error_type="UnknownMessageType") == 1
    assert getattr(points[("dispatcher.consumer.lag", ())], "count", None) == 3
    assert getattr(points[("dispatcher.event.duration", ())], "count", None) == 3
