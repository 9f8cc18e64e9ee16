"""One trace per delivery, across services: ingress's server span, the webhook event, the
dispatcher's handling span, the execution request it publishes, and the logs on the way.

On the embedded platform (in-memory bus) the record's `traceparent` header is the only
link between the services, as it is on Kafka; tests/integration/test_tracing_on_kafka.py
covers FastStream's publish and consume spans.
"""

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, format_trace_id

from integrations.bus import Record
from integrations.contracts import topics
from tests.unit.embedded.platform_session import (
    Session,
    activate_manual_webhook,
    embedded_session,
    settle,
)

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_telemetry_globals")]

INGRESS_ROUTE = "/api/integrations/{provider}/webhooks/{webhook_id}/ingress"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    yield exporter
    exporter.shutdown()


def record_spans(exporter: InMemorySpanExporter) -> None:
    """Adds the exporter to the provider the platform just made global."""
    provider = trace.get_tracer_provider()
    assert isinstance(provider, TracerProvider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))


def trace_id_of(record: Record) -> str:
    traceparent = record.header("traceparent")
    assert traceparent is not None, f"no traceparent on {record.topic}"
    # version-traceid-spanid-flags
    return traceparent.decode().split("-")[1]


def ingress_server_spans(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return [
        span
        for span in exporter.get_finished_spans()
        if span.kind == SpanKind.SERVER
        and (span.attributes or {}).get("http.route") == INGRESS_ROUTE
    ]


def only_record(session: Session, topic: str) -> Record:
    [record] = [record for part in session.platform.bus.log_of(topic) for record in part]
    return record


async def test_a_delivery_is_one_trace_from_ingress_to_the_execution_request(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    async with embedded_session(tmp_path) as session:
        record_spans(spans)
        path = await activate_manual_webhook(session)
        assert (await session.client.post(path, json={"hello": "world"})).status_code == 200
        await settle(session)
        event = only_record(session, topics.WEBHOOK_EVENTS)
        request = only_record(session, topics.GRAPH_EXECUTION_REQUESTS)

    [server] = ingress_server_spans(spans)
    assert server.context is not None
    trace_id = format_trace_id(server.context.trace_id)
    assert trace_id_of(event) == trace_id
    assert trace_id_of(request) == trace_id
    [handling] = [s for s in spans.get_finished_spans() if s.name == "dispatch webhook event"]
    assert handling.context is not None
    assert handling.parent is not None
    assert format_trace_id(handling.context.trace_id) == trace_id
    # Parented by the record, not merely the same trace: the ingress span is its parent.
    assert handling.parent.span_id == server.context.span_id


async def test_a_log_line_written_while_handling_a_delivery_carries_its_trace_id(
    tmp_path: Path,
    spans: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    # The platform replaces the root handlers; the originals come back after the test.
    monkeypatch.setattr(root, "handlers", root.handlers)
    monkeypatch.setenv("LOG_FORMAT", "json")
    async with embedded_session(tmp_path) as session:
        record_spans(spans)
        stream = io.StringIO()
        root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
        path = await activate_manual_webhook(session, provider="standard_webhook")
        # Unsigned: ingress refuses it and logs why.
        assert (await session.client.post(path, json={"forged": True})).status_code == 403

    [server] = ingress_server_spans(spans)
    assert server.context is not None
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    [refused] = [line for line in lines if "refused" in line["message"]]
    assert refused["logger"] == "integrations.ingress.entrypoints.http"
    assert refused["trace_id"] == format_trace_id(server.context.trace_id)
    assert refused["span_id"] == format(server.context.span_id, "016x")
