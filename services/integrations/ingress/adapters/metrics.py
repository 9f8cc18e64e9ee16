"""The ingress service's OpenTelemetry instruments (exported by the host's meter provider)."""

from collections.abc import Container

from opentelemetry.metrics import Meter

# Seconds; fine-grained below 50 ms, where a healthy acks=all publish (and so a delivery)
# lands.
_PUBLISH_BUCKETS_S = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_UNKNOWN = "unknown"


class IngressMetrics:
    """Requests by provider and outcome, verification failures, publish latency.

    The provider label is the path segment only when it names a known provider: anything
    else is `unknown`, so a scan of made-up paths cannot explode the label set.
    """

    def __init__(self, meter: Meter, known_providers: Container[str]) -> None:
        self._known = known_providers
        self._requests = meter.create_counter(
            "integrations.ingress.requests",
            unit="{request}",
            description="Webhook deliveries received, by provider and outcome.",
        )
        self._request_duration = meter.create_histogram(
            "integrations.ingress.request.duration",
            unit="s",
            description="Time from a delivery's arrival to its answer, by provider and outcome.",
            explicit_bucket_boundaries_advisory=_PUBLISH_BUCKETS_S,
        )
        self._verification_failures = meter.create_counter(
            "integrations.ingress.verification_failures",
            unit="{request}",
            description="Deliveries whose signature did not verify, by provider.",
        )
        self._publish_duration = meter.create_histogram(
            "integrations.ingress.publish.duration",
            unit="s",
            description="Time from publish to the broker's acks=all acknowledgement.",
            explicit_bucket_boundaries_advisory=_PUBLISH_BUCKETS_S,
        )

    def provider_label(self, provider: str) -> str:
        return provider if provider in self._known else _UNKNOWN

    def request_finished(self, provider: str, outcome: str, seconds: float) -> None:
        attributes = {"provider": self.provider_label(provider), "outcome": outcome}
        self._requests.add(1, attributes)
        self._request_duration.record(seconds, attributes)

    def verification_failed(self, provider: str) -> None:
        self._verification_failures.add(1, {"provider": self.provider_label(provider)})

    def publish_finished(self, provider: str, seconds: float, outcome: str) -> None:
        self._publish_duration.record(
            seconds, {"provider": self.provider_label(provider), "outcome": outcome}
        )
