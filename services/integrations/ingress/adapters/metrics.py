"""The ingress service's OpenTelemetry instruments (exported by the host's meter provider)."""

from collections.abc import Container

from opentelemetry.metrics import Meter

from integrations.telemetry.buckets import LATENCY_BUCKETS_S

_UNKNOWN = "unknown"


class IngressMetrics:
    """Requests by provider and outcome (with their latency), verification failures.

    The provider label is the path segment only when it names a known provider: anything
    else is `unknown`, so a scan of made-up paths cannot explode the label set.
    """

    def __init__(self, meter: Meter, known_providers: Container[str]) -> None:
        self._known = known_providers
        # One histogram, not a counter beside it: its count is the requests by outcome, and
        # each instrument costs a delivery CPU time on the hot path.
        self._requests = meter.create_histogram(
            "integrations.ingress.request.duration",
            unit="s",
            description="Webhook deliveries, by provider and outcome: time from arrival to "
            "answer (a 200 comes after the broker's acknowledgement).",
            explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S,
        )
        self._verification_failures = meter.create_counter(
            "integrations.ingress.verification_failures",
            unit="{request}",
            description="Deliveries whose signature did not verify, by provider.",
        )

    def provider_label(self, provider: str) -> str:
        return provider if provider in self._known else _UNKNOWN

    def request_finished(self, provider: str, outcome: str, seconds: float) -> None:
        self._requests.record(
            seconds, {"provider": self.provider_label(provider), "outcome": outcome}
        )

    def verification_failed(self, provider: str) -> None:
        self._verification_failures.add(1, {"provider": self.provider_label(provider)})
