"""KafkaBus against a real broker: what the shared contract suite cannot show through the
port (bytes on the wire, committed offsets, timeouts, provisioning, the middleware hook)."""

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from integrations.bus import BusUnavailable, PublishRejected, Record
from integrations.bus.admin import ensure_topics
from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from integrations.contracts.messages.webhooks import WebhookEventReceived
from integrations.contracts.topics import TopicSpec
from integrations.telemetry import Telemetry
from integrations.telemetry import kafka_middlewares as telemetry_middlewares
from tests.harness.kafka import KafkaServer, create_topic, unique_name

pytestmark = pytest.mark.integration

SOURCE = "/integrations/tests"
WITHIN = 30.0


def event(event_id: str = "ev-1") -> WebhookEventReceived:
    return WebhookEventReceived(
        event_id=event_id,
        provider="github",
        webhook_id="wh-1",
        user_id="user-1",
        event_type="push",
        payload={"event": event_id},
        received_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def settings(bootstrap: str, **overrides: float) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=bootstrap,
        client_id=f"bus-test-{uuid.uuid4().hex[:8]}",
        redelivery_delay_s=0.05,
        **overrides,
    )


@pytest.fixture
async def topic(kafka_bootstrap: str) -> str:
    name = unique_name("bus")
    await create_topic(kafka_bootstrap, name, partitions=2)
    return name


async def read_all(bootstrap: str, topic: str, count: int) -> list[Record]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        records: list[Record] = []
        async with asyncio.timeout(WITHIN):
            while len(records) < count:
                batches = await consumer.getmany(timeout_ms=200)
                records.extend(
                    Record(
                        topic=raw.topic,
                        partition=raw.partition,
                        offset=raw.offset,
                        key=raw.key.decode() if raw.key is not None else None,
                        value=raw.value,
                        headers=tuple(raw.headers),
                        timestamp_ms=raw.timestamp,
                    )
                    for batch in batches.values()
                    for raw in batch
                )
        return records
    finally:
        await consumer.stop()


def closed_loopback_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_published_record_carries_its_key_cloudevents_headers_and_traceparent(
    kafka_bootstrap: str, topic: str
) -> None:
    provider = TracerProvider()
    bus = KafkaBus(settings(kafka_bootstrap), tracer_provider=provider)
    await bus.start()
    try:
        with provider.get_tracer("test").start_as_current_span("publish") as span:
            await bus.publish(topic, event(), source=SOURCE)
    finally:
        await bus.stop()

    [record] = await read_all(kafka_bootstrap, topic, 1)
    assert record.key == "wh-1"
    names = {name for name, _ in record.headers}
    assert {"ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "content-type"} <= names
    assert record.header("ce_type") == b"integrations.webhook-event.received.v1"
    assert record.header("content-type") == b"application/json"
    # The caller's trace; the parent is the bus's producer span inside the caller's span.
    context = span.get_span_context()
    version, trace_id, parent_id, flags = (record.header("traceparent") or b"").decode().split("-")
    assert (version, trace_id) == ("00", f"{context.trace_id:032x}")
    assert flags == f"{context.trace_flags:02x}"
    assert parent_id != f"{context.span_id:016x}"


async def test_a_tombstone_is_a_null_value_under_its_key(kafka_bootstrap: str, topic: str) -> None:
    bus = KafkaBus(settings(kafka_bootstrap))
    await bus.start()
    try:
        await bus.publish(topic, None, key="wh-gone", source=SOURCE)
    finally:
        await bus.stop()

    [record] = await read_all(kafka_bootstrap, topic, 1)
    assert (record.key, record.value) == ("wh-gone", None)


async def test_only_records_whose_handler_returned_are_committed(
    kafka_bootstrap: str, topic: str
) -> None:
    group = unique_name("group")
    attempts: list[int] = []
    done = asyncio.Event()

    async def fails_once(record: Record) -> None:
        attempts.append(record.offset)
        if len(attempts) == 1:
            raise RuntimeError("first attempt fails")
        done.set()

    first = KafkaBus(settings(kafka_bootstrap))
    first.subscribe(topic, fails_once, group=group)
    await first.start()
    try:
        await first.publish(topic, event("ev-1"), source=SOURCE)
        await asyncio.wait_for(done.wait(), WITHIN)
    finally:
        await first.stop()
    assert attempts == [0, 0]

    # The same group later: the handled record stays committed, only the new one arrives.
    later: list[Record] = []

    async def collect(record: Record) -> None:
        later.append(record)

    second = KafkaBus(settings(kafka_bootstrap))
    second.subscribe(topic, collect, group=group)
    await second.start()
    try:
        await second.publish(topic, event("ev-2"), source=SOURCE)
        async with asyncio.timeout(WITHIN):
            while not later:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # room for a wrongly redelivered first record to show up
    finally:
        await second.stop()
    assert [record.offset for record in later] == [1]


async def test_start_against_an_unreachable_broker_fails_fast_with_bus_unavailable() -> None:
    bus = KafkaBus(
        settings(f"127.0.0.1:{closed_loopback_port()}", connect_timeout_s=1, publish_timeout_s=1)
    )
    started = time.monotonic()
    with pytest.raises(BusUnavailable, match="unreachable"):
        await bus.start()
    assert time.monotonic() - started < 5

    with pytest.raises(BusUnavailable):
        await bus.publish("any-topic", event(), source=SOURCE)
    assert not await bus.health()
    await bus.stop()


async def test_a_publish_the_broker_does_not_acknowledge_in_time_raises_bus_unavailable(
    kafka_fault_server: KafkaServer, topic: str
) -> None:
    bus = KafkaBus(settings(kafka_fault_server.bootstrap_servers, publish_timeout_s=1))
    await bus.start()
    try:
        await bus.publish(topic, event("ev-1"), source=SOURCE)
        kafka_fault_server.pause()
        try:
            started = time.monotonic()
            with pytest.raises(BusUnavailable, match="not acknowledged"):
                await bus.publish(topic, event("ev-2"), source=SOURCE)
            assert time.monotonic() - started < 3
            assert not await bus.health()
        finally:
            kafka_fault_server.resume()
        assert await bus.health()
    finally:
        await bus.stop()


async def test_a_record_larger_than_allowed_is_rejected_not_retried(
    kafka_bootstrap: str, topic: str
) -> None:
    bus = KafkaBus(settings(kafka_bootstrap, max_message_bytes=64 * 1024))
    await bus.start()
    try:
        with pytest.raises(PublishRejected):
            await bus.publish_raw(topic, "k", b"x" * 128 * 1024)
    finally:
        await bus.stop()


async def test_entering_an_expectation_on_a_missing_topic_gives_up_in_bounded_time(
    kafka_bootstrap: str,
) -> None:
    bus = KafkaBus(settings(kafka_bootstrap, publish_timeout_s=1))
    await bus.start()
    try:
        started = time.monotonic()
        with pytest.raises(BusUnavailable):
            async with bus.expect(unique_name("missing"), lambda _: True):
                pass
        assert time.monotonic() - started < 3
    finally:
        await bus.stop()


async def test_ensure_topics_creates_missing_topics_with_their_settings_and_is_idempotent(
    kafka_bootstrap: str,
) -> None:
    spec = TopicSpec(
        name=unique_name("provisioned"),
        key_field="webhook_id",
        key_description="webhook_id",
        description="test topic",
        producers=("ingress",),
        consumers=("dispatcher",),
        partitions=3,
        cleanup_policy="compact",
        retention_ms=None,
    )

    first = await ensure_topics(kafka_bootstrap, [spec])
    again = await ensure_topics(kafka_bootstrap, [spec])

    assert [(o.name, o.outcome) for o in first] == [(spec.name, "created")]
    assert [(o.name, o.outcome) for o in again] == [(spec.name, "exists")]
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([spec.name])
        [configs] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, spec.name)]
        )
    finally:
        await admin.close()
    assert len(described["partitions"]) == 3
    entries = {entry[0]: entry[1] for entry in configs.resources[0][4]}
    assert entries["cleanup.policy"] == "compact"


@pytest.fixture
def telemetry() -> Iterator[tuple[Telemetry, InMemorySpanExporter]]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry = Telemetry(tracer_provider=tracer_provider, meter_provider=MeterProvider())
    yield telemetry, exporter
    telemetry.shutdown()


async def test_broker_middlewares_trace_publish_and_consume_as_one_trace(
    kafka_bootstrap: str, topic: str, telemetry: tuple[Telemetry, InMemorySpanExporter]
) -> None:
    provider, exporter = telemetry
    handled_in: list[trace.SpanContext] = []

    async def handler(record: Record) -> None:
        handled_in.append(trace.get_current_span().get_span_context())

    bus = KafkaBus(settings(kafka_bootstrap), middlewares=telemetry_middlewares(provider))
    bus.subscribe(topic, handler, group=unique_name("traced"))
    await bus.start()
    try:
        with provider.tracer_provider.get_tracer("test").start_as_current_span("ingress") as root:
            await bus.publish(topic, event(), source=SOURCE)
        async with asyncio.timeout(WITHIN):
            while not handled_in:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
    finally:
        await bus.stop()

    assert handled_in[0].trace_id == root.get_span_context().trace_id
    assert any(span.kind == trace.SpanKind.CONSUMER for span in exporter.get_finished_spans())


async def test_a_publish_is_a_producer_span_carried_by_the_record_and_is_timed(
    kafka_bootstrap: str, topic: str
) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    bus = KafkaBus(
        settings(kafka_bootstrap), tracer_provider=tracer_provider, meter_provider=meter_provider
    )
    await bus.start()
    try:
        async with bus.expect(topic, lambda record: True) as expectation:
            await bus.publish(topic, event(), source=SOURCE)
            record = await expectation.wait(WITHIN)
    finally:
        await bus.stop()

    [span] = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.PRODUCER]
    assert span.name == f"send {topic}"
    assert span.context is not None
    traceparent = (record.header("traceparent") or b"").decode()
    assert traceparent.split("-")[2] == format(span.context.span_id, "016x")
    data = reader.get_metrics_data()
    assert data is not None
    [point] = [
        point
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "messaging.publish.duration"
        for point in metric.data.data_points
    ]
    assert point.attributes == {"messaging.destination.name": topic, "outcome": "acknowledged"}
    assert isinstance(point, HistogramDataPoint)
    assert point.count == 1
