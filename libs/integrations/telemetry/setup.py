from collections.abc import Sequence
from dataclasses import dataclass

from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from integrations.telemetry.logs import configure_logging
from integrations.telemetry.prometheus import PrometheusExposition
from integrations.telemetry.settings import TelemetrySettings

_global_set = False
# The exposition of the global meter provider: the one the services' instruments and
# FastAPI's HTTP metrics record into, so the one `GET /metrics` renders.
_global_exposition: PrometheusExposition | None = None


@dataclass(frozen=True)
class Telemetry:
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    prometheus: PrometheusExposition | None = None

    def shutdown(self) -> None:
        self.tracer_provider.shutdown()
        self.meter_provider.shutdown()


def configure_telemetry(
    settings: TelemetrySettings,
    *,
    span_processors: Sequence[SpanProcessor] = (),
    metric_readers: Sequence[MetricReader] = (),
    set_global: bool = True,
) -> Telemetry:
    """Builds the tracer and meter providers; tests pass in-memory processors and readers."""
    configure_logging(settings.service_name, settings.log_level, settings.log_format)
    resource = Resource.create({"service.name": settings.service_name})
    tracer_provider = TracerProvider(resource=resource)
    prometheus = PrometheusExposition()
    readers: list[MetricReader] = [prometheus.reader, *metric_readers]
    if settings.otlp_endpoint:
        # Imported here so a service without a collector never loads the exporter stack.
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        endpoint = settings.otlp_endpoint.rstrip("/")
        tracer_provider.add_span_processor(
            BatchSpanProcessor(OTLPSpanExporter(endpoint=f"{endpoint}/v1/traces"))
        )
        readers.append(
            PeriodicExportingMetricReader(OTLPMetricExporter(endpoint=f"{endpoint}/v1/metrics"))
        )
    for processor in span_processors:
        tracer_provider.add_span_processor(processor)
    meter_provider = MeterProvider(resource=resource, metric_readers=readers)
    global _global_set, _global_exposition
    if set_global and not _global_set:
        # OpenTelemetry allows one global provider per process; the embedded host and tests
        # build several services in one process, and the first one's providers stay global.
        trace.set_tracer_provider(tracer_provider)
        metrics.set_meter_provider(meter_provider)
        _global_set = True
        _global_exposition = prometheus
    return Telemetry(
        tracer_provider=tracer_provider, meter_provider=meter_provider, prometheus=prometheus
    )


def render_metrics() -> bytes:
    """The global meter provider's metrics in Prometheus text format (empty before setup)."""
    return _global_exposition.render() if _global_exposition is not None else b""


def kafka_middlewares(telemetry: Telemetry) -> tuple[KafkaTelemetryMiddleware, ...]:
    """FastStream's own Kafka instrumentation of consumers (the bus traces its publishes)."""
    return (
        KafkaTelemetryMiddleware(
            tracer_provider=telemetry.tracer_provider,
            meter_provider=telemetry.meter_provider,
        ),
    )
