"""What every scheme module provides: the providers lib's `WebhookVerifier` plus `read`, the
scheme's reading of an already verified delivery."""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from integrations.ingress.domain.types import JsonObject
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
