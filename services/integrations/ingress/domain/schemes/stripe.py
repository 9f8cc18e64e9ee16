"""Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>...]` over `{t}.{body}`, keyed
with the whole `whsec_...` string as UTF-8 (not base64-decoded, unlike Standard Webhooks).
Only `v1` counts (test mode also sends `v0`). Several `v1`s appear while a secret rolls.
Exa signs the same way under `Exa-Signature` (`signature_header`).

Unlike stripe-python, a timestamp more than the tolerance in the future is refused too: the
window is symmetric for every timed scheme here. Event id and type come from the payload."""

from collections.abc import Mapping

from pydantic import SecretStr

from integrations.ingress.domain.payloads import json_object
from integrations.ingress.domain.schemes._signing import (
    any_matches,
    fresh_timestamp,
    hmac_sha256,
    reject,
    required_header,
    required_secret,
)
from integrations.ingress.domain.schemes.base import DeliveryFacts, TimestampedScheme
from integrations.providers import InvalidWebhookPayload, SignatureScheme

SIGNATURE_HEADER = "Stripe-Signature"


class StripeScheme(TimestampedScheme):
    SIGNATURE_HEADER = SIGNATURE_HEADER

    @property
    def scheme(self) -> SignatureScheme:
        return "stripe"

    @property
    def kept_headers(self) -> frozenset[str]:
        return frozenset()

    def verify(self, *, headers: Mapping[str, str], body: bytes, secret: SecretStr | None) -> None:
        key = required_secret(secret).encode("utf-8")
        timestamps, signatures = _parse(required_header(headers, self._signature_header))
        if len(timestamps) != 1 or not signatures:
            raise reject("The signature header needs one t= and at least one v1=.")
        signed_at = fresh_timestamp(timestamps[0], now=self._clock(), tolerance=self._tolerance)
        expected = hmac_sha256(key, signed_at, b".", body).hex().encode("ascii")
        if not any_matches(expected, [s.lower() for s in signatures]):
            raise reject()

    def read(self, *, headers: Mapping[str, str], body: bytes, webhook_type: str) -> DeliveryFacts:
        payload = json_object(body)
        event_id, event_type = payload.get("id"), payload.get("type")
        if not isinstance(event_id, str) or not event_id:
            raise InvalidWebhookPayload("The event has no id.")
        if not isinstance(event_type, str) or not event_type:
            raise InvalidWebhookPayload("The event has no type.")
        return DeliveryFacts(payload=payload, event_type=event_type, delivery_id=event_id)


def _parse(value: str) -> tuple[list[str], list[str]]:
    timestamps: list[str] = []
    signatures: list[str] = []
    for item in value.split(","):
        name, _, content = item.strip().partition("=")
        if name == "t":
            timestamps.append(content)
        elif name == "v1":
            signatures.append(content)
    return timestamps, signatures
