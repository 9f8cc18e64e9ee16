"""What every scheme module provides: the providers lib's `WebhookVerifier` plus `read`, the
scheme's reading of an already verified delivery."""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Protocol

from integrations.ingress.domain.schemes._signing import DEFAULT_TOLERANCE_SECONDS
from integrations.ingress.domain.types import Clock, JsonObject
from integrations.providers import WebhookVerifier


@dataclass(frozen=True, kw_only=True, slots=True)
class DeliveryFacts:
    payload: JsonObject
    event_type: str
    # The provider's own id of this delivery, unscoped; None when the provider sends none.
    delivery_id: str | None = None
    # Slack's url_verification: the HTTP layer echoes it and publishes nothing.
    challenge: str | None = None


class WebhookScheme(WebhookVerifier, Protocol):
    @property
    def kept_headers(self) -> frozenset[str]:
        """Lowercased names of headers worth keeping on the event; never a signature."""
        ...

    def read(self, *, headers: Mapping[str, str], body: bytes, webhook_type: str) -> DeliveryFacts:
        """Parse a verified body. `webhook_type` is the event type of schemes whose deliveries
        carry none. Raises `InvalidWebhookPayload`."""
        ...


class TimestampedScheme:
    """The constructor of schemes that sign a timestamp: a replay window on a clock."""

    SIGNATURE_HEADER: ClassVar[str]

    def __init__(
        self,
        *,
        signature_header: str | None = None,
        clock: Clock = time.time,
        tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    ) -> None:
        self._signature_header = signature_header or self.SIGNATURE_HEADER
        self._clock = clock
        self._tolerance = tolerance
