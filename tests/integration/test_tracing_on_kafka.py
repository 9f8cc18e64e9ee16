"""One trace on the real broker: ingress's HTTP server span, FastStream's publish and
consume spans on `webhook-events`, the dispatcher's handling span and the publish of the
execution request, whose record carries the same trace id.

Ingress and the dispatcher are composed in one app on one `KafkaBus` (as `integrations
serve` would host each), with the same telemetry middlewares; the dispatcher keeps its
records in SQLite, since the trace does not depend on the database.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id
from pydantic import SecretStr

from integrations.auth import AuthConfig
from integrations.bus import Record
from integrations.bus.kafka import KafkaBus
from integrations.bus.kafka_readers import to_record
from integrations.bus.settings import KafkaSettings
from integrations.contracts import NodeTrigger, WebhookState, topics
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key
from integrations.dispatcher.bootstrap import SERVICE as DISPATCHER
from integrations.ingress.bootstrap import SERVICE as INGRESS
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from integrations.telemetry import TelemetrySettings, configure_telemetry, kafka_middlewares
from tests.unit.dispatcher.kafka_kit import provision_topics, start_group_at_end

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fresh_telemetry_globals")]

WITHIN = 60.0
SOURCE = "/integrations/tests/tracing"
RING = KeyRing([generate_root_key()])
INGRESS_ROUTE = "/api/integrations/{provider}/webhooks/{webhook_id}/ingress"


@dataclass(frozen=True)
class Platform:
    client: httpx.AsyncClient
    bus: KafkaBus
    spans: InMemorySpanExporter
    run: str

    @property
    def webhook_id(self) -> str:
        return f"wh-{self.run}"

    @property
    def user_id(self) -> str:
        return f"user-{self.run}"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


@pytest.fixture
async def platform(
    kafka_bootstrap: str, tmp_path: Path, spans: InMemorySpanExporter
) -> AsyncIterator[Platform]:
    run = uuid.uuid4().hex[:10]
    await provision_topics(kafka_bootstrap)
    group = f"dispatcher-{run}"
    await start_group_at_end(kafka_bootstrap, group, topics.WEBHOOK_EVENTS)
    telemetry = configure_telemetry(
        TelemetrySettings(service_name="integrations-tracing-test", log_format="text"),
        span_processors=[SimpleSpanProcessor(spans)],
    )
    bus = KafkaBus(
        KafkaSettings(bootstrap_servers=kafka_bootstrap, client_id=f"tracing-{run}"),
        middlewares=kafka_middlewares(telemetry),
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
    )
    jwt_secret = SecretStr(uuid.uuid4().hex * 2)
    database_url = f"sqlite:///{tmp_path / 'dispatcher.db'}"
    ingress = INGRESS.load_settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        webhook_secret_keys=RING.derive(Purpose.WEBHOOK_SECRETS).export(),
        # Nothing listens: a view miss answers 503 at once, until the view has the webhook.
        credentials_internal_url="http://127.0.0.1:9",
    )
    dispatcher = DISPATCHER.load_settings(
        kafka_bootstrap_servers=kafka_bootstrap,
        database_url=database_url,
        consumer_group=group,
        results_consumer_group=f"results-{run}",
    )
    deps = Dependencies(bus, database_url)
    app = host_units(
        [INGRESS.build(ingress, deps), DISPATCHER.build(dispatcher, deps)],
        title="ingress and dispatcher",
        version="0",
        bus=bus,
        auth=AuthConfig(jwt_secret=jwt_secret),
        closers=[deps.close],
    )
    async with (
        LifespanManager(app, startup_timeout=WITHIN, shutdown_timeout=WITHIN),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        async with asyncio.timeout(WITHIN):
            while (await client.get("/readyz")).status_code != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        yield Platform(client, bus, spans, run)
    telemetry.shutdown()


def webhook_state(platform: Platform) -> WebhookState:
    cipher = Cipher.from_key_ring(RING.export(), Purpose.WEBHOOK_SECRETS)
    return WebhookState(
        webhook_id=platform.webhook_id,
        user_id=platform.user_id,
        provider="generic_webhook",
        credentials_id=None,
        webhook_type="plain",
        resource="",
        events=["plain"],
        secret_ciphertext=cipher.encrypt_text(
            uuid.uuid4().hex, associated_data=platform.webhook_id.encode()
        ),
        provider_webhook_id="",
        manual=True,
        ingress_url=f"http://test/api/integrations/generic_webhook/webhooks/{platform.webhook_id}/ingress",
        node_triggers=[NodeTrigger(node_id="trigger", graph_id="graph", graph_version=1)],
        version=1,
        updated_at=datetime.now(UTC),
    )


async def first_record(bootstrap: str, topic: str, key: str) -> Record:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    try:
        async with asyncio.timeout(WITHIN):
            while True:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    for record in map(to_record, batch):
                        if record.key == key:
                            return record
    finally:
        await consumer.stop()


def trace_id_of(record: Record) -> str:
    traceparent = record.header("traceparent")
    assert traceparent is not None
    return traceparent.decode().split("-")[1]


def in_trace(spans: InMemorySpanExporter, trace_id: int) -> list[ReadableSpan]:
    return [
        span
        for span in spans.get_finished_spans()
        if span.context is not None and span.context.trace_id == trace_id
    ]


def names(spans: list[ReadableSpan], kind: SpanKind) -> list[str]:
    return [span.name for span in spans if span.kind == kind]


async def test_a_delivery_is_one_trace_across_kafka(
    platform: Platform, kafka_bootstrap: str
) -> None:
    await platform.bus.publish(topics.WEBHOOKS, webhook_state(platform), source=SOURCE)
    path = f"/api/integrations/generic_webhook/webhooks/{platform.webhook_id}/ingress"
    async with asyncio.timeout(WITHIN):
        # 503 (lookup unavailable) until ingress's view has the webhook.
        while (await platform.client.post(path, json={"traced": True})).status_code != 200:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    request = await first_record(kafka_bootstrap, topics.GRAPH_EXECUTION_REQUESTS, platform.user_id)
    # The dispatcher's spans end just after the publish it waited for.
    await asyncio.sleep(0.5)

    [server] = [
        span
        for span in platform.spans.get_finished_spans()
        if span.kind == SpanKind.SERVER
        and (span.attributes or {}).get("http.route") == INGRESS_ROUTE
        and (span.attributes or {}).get("http.response.status_code") == 200
    ]
    assert server.context is not None
    trace_id = server.context.trace_id
    assert trace_id_of(request) == format_trace_id(trace_id)
    trace = in_trace(platform.spans, trace_id)
    producers, consumers = names(trace, SpanKind.PRODUCER), names(trace, SpanKind.CONSUMER)
    assert any(topics.WEBHOOK_EVENTS in name for name in producers), producers
    assert any(topics.WEBHOOK_EVENTS in name for name in consumers), consumers
    assert "dispatch webhook event" in consumers
    assert any(topics.GRAPH_EXECUTION_REQUESTS in name for name in producers), producers
