"""Traces, metrics and logs for every service.

`configure_telemetry(settings)` is called once by a service's bootstrap. With no OTLP
endpoint configured, tracing and metrics stay in-process (spans are still created, so trace
ids reach the logs and the Kafka headers) but nothing is exported.
"""

from integrations.telemetry.logs import configure_logging
from integrations.telemetry.propagation import current_traceparent, extract_context
from integrations.telemetry.settings import TelemetrySettings
from integrations.telemetry.setup import Telemetry, configure_telemetry, kafka_middlewares

__all__ = [
    "Telemetry",
    "TelemetrySettings",
    "configure_logging",
    "configure_telemetry",
    "current_traceparent",
    "extract_context",
    "kafka_middlewares",
]
