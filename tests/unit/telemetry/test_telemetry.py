import io
import json
import logging

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import format_span_id, format_trace_id

from integrations.telemetry import (
    TelemetrySettings,
    configure_logging,
    configure_telemetry,
    current_traceparent,
    extract_context,
)

pytestmark = pytest.mark.unit


@pytest.fixture
def tracer_provider() -> TracerProvider:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def test_json_log_lines_carry_the_active_trace_and_span_ids(
    tracer_provider: TracerProvider,
) -> None:
    configure_logging("svc", "INFO", "json")
    stream = io.StringIO()
    root = logging.getLogger()
    root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
    with tracer_provider.get_tracer("t").start_as_current_span("work") as span:
        logging.getLogger("x").info("hello %s", "world")
    line = json.loads(stream.getvalue().strip())
    context = span.get_span_context()
    assert line["message"] == "hello world"
    assert line["service"] == "svc"
    assert line["level"] == "INFO"
    assert line["trace_id"] == format_trace_id(context.trace_id)
    assert line["span_id"] == format_span_id(context.span_id)


def test_traceparent_is_none_outside_a_span_and_round_trips_inside_one(
    tracer_provider: TracerProvider,
) -> None:
    assert current_traceparent() == (None, None)
    with tracer_provider.get_tracer("t").start_as_current_span("publish") as span:
        traceparent, _ = current_traceparent()
    assert traceparent is not None
    context = extract_context([("traceparent", traceparent.encode())])
    from opentelemetry import trace

    extracted = trace.get_current_span(context).get_span_context()
    assert extracted.trace_id == span.get_span_context().trace_id


def test_configure_telemetry_without_a_collector_exports_nothing_but_still_traces() -> None:
    exporter = InMemorySpanExporter()
    telemetry = configure_telemetry(
        TelemetrySettings(service_name="svc", log_format="text"),
        span_processors=[SimpleSpanProcessor(exporter)],
        set_global=False,
    )
    with telemetry.tracer_provider.get_tracer("t").start_as_current_span("x"):
        pass
    telemetry.shutdown()
    assert [span.name for span in exporter.get_finished_spans()] == ["x"]
    assert telemetry.tracer_provider.resource.attributes["service.name"] == "svc"
