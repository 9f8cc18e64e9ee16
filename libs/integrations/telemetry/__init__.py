"""Traces, metrics and logs for every service.

`configure_telemetry(settings)` is called once by a service's bootstrap. With no OTLP
endpoint configured, tracing and metrics stay in-process (spans are still created, so trace
ids reach the logs and the Kafka headers) but nothing is exported.
"""

from integrations.telemetry.logs import configure_logging
from integrations.telemetry.prometheus import CONTENT_TYPE as METRICS_CONTENT_TYPE
from integrations.telemetry.prometheus import PrometheusExposition
from integrations.telemetry.propagation import current_traceparent, extract_context
from integrations.telemetry.settings import TelemetrySettings
from integrations.telemetry.setup import (
    Telemetry,
    configure_telemetry,
    kafka_middlewares,
    render_metrics,
)

__all__ = [
    "METRICS_CONTENT_TYPE",
    "PrometheusExposition",
    "Telemetry",
    "TelemetrySettings",
    "configure_logging",
    "configure_telemetry",
    "current_traceparent",
    "extract_context",
    "kafka_middlewares",
    "render_metrics",
]
