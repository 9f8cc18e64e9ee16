"""GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`, no timestamp (GitHub
sends none; `X-GitHub-Delivery` dedupes retries instead). The event comes from
`X-GitHub-Event`; `{event}.{action}` when the payload has an action (SPEC WH-5)."""

import time
from collections.abc import Mapping

from pydantic import SecretStr

from integrations.ingress.domain.payloads import form_payload_object, is_form, json_object
from integrations.ingress.domain.schemes._signing import (
    any_matches,
    hmac_sha256,
    reject,
    required_header,
    required_secret,
)
from integrations.ingress.domain.schemes.base import DeliveryFacts
from integrations.ingress.domain.types import Clock, header
from integrations.providers import InvalidWebhookPayload, SignatureScheme

SIGNATURE_HEADER = "X-Hub-Signature-256"
EVENT_HEADER = "X-GitHub-Event"
DELIVERY_HEADER = "X-GitHub-Delivery"
_PREFIX = "sha256="


class GitHubScheme:
    def __init__(self, *, signature_header: str | None = None, clock: Clock = time.time) -> None:
        self._signature_header = signature_header or SIGNATURE_HEADER  # no clock: untimed

    @property
    def scheme(self) -> SignatureScheme:
        return "github"

    @property
    def kept_headers(self) -> frozenset[str]:
        return frozenset(
            {
                "x-github-event",
                "x-github-delivery",
                "x-github-hook-id",
                "x-github-hook-installation-target-id",
                "x-github-hook-installation-target-type",
            }
        )

    def verify(self, *, headers: Mapping[str, str], body: bytes, secret: SecretStr | None) -> None:
        key = required_secret(secret).encode("utf-8")
        signature = required_header(headers, self._signature_header)
        if not signature.startswith(_PREFIX):
            raise reject("The signature is not a sha256= signature.")
        expected = hmac_sha256(key, body).hex().encode("ascii")
        if not any_matches(expected, [signature.removeprefix(_PREFIX).lower()]):
            raise reject()

    def read(self, *, headers: Mapping[str, str], body: bytes, webhook_type: str) -> DeliveryFacts:
        event = header(headers, EVENT_HEADER)
        if not event:
            raise InvalidWebhookPayload(f"The request has no {EVENT_HEADER} header.")
        # A hook may be set to the form content type: the same JSON under `payload=`.
        payload = form_payload_object(body) if is_form(headers) else json_object(body)
        action = payload.get("action")
        # A ping has no action; the explicit case keeps `ping` stable for the ping waiter.
        if event == "ping" or not isinstance(action, str) or not action:
            event_type = event
        else:
            event_type = f"{event}.{action}"
        return DeliveryFacts(
            payload=payload, event_type=event_type, delivery_id=header(headers, DELIVERY_HEADER)
        )
