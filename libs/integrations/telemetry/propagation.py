"""W3C trace-context in and out of Kafka headers and HTTP calls."""

from collections.abc import Iterable

from opentelemetry import context as otel_context
from opentelemetry.propagate import extract, inject


def current_traceparent() -> tuple[str | None, str | None]:
    """The active span as (traceparent, tracestate), or (None, None) outside any span."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier.get("traceparent"), carrier.get("tracestate")


def extract_context(headers: Iterable[tuple[str, bytes | str]]) -> otel_context.Context:
    """The trace context carried by a record's headers, to parent a consumer's span."""
    carrier = {
        name: value.decode("latin-1") if isinstance(value, bytes) else value
        for name, value in headers
        if name in ("traceparent", "tracestate")
    }
    return extract(carrier)
