"""The process's OpenTelemetry metrics in Prometheus text format, collected at scrape time.

Pull, not push: nothing is computed between scrapes, so every service carries the reader
whether or not anyone scrapes it.
"""

from opentelemetry.exporter.prometheus import PrometheusMetricReader
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4

# What `generate_latest` writes; every Prometheus version scrapes it.
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4


class PrometheusExposition:
    """One meter provider's metrics, rendered on demand for `GET /metrics`."""

    def __init__(self) -> None:
        # A registry of our own rather than prometheus-client's global one: tests and the
        # embedded host build several telemetry stacks in one process, and a second reader
        # on the global registry would fail on duplicate metric names.
        self.registry = CollectorRegistry(auto_describe=False)
        self.reader = PrometheusMetricReader(registry=self.registry)

    def render(self) -> bytes:
        return generate_latest(self.registry)
