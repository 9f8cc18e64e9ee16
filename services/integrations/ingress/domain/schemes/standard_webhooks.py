"""Standard Webhooks (standardwebhooks.com): `webhook-signature: v1,<base64> [v1,<base64>...]`,
each an HMAC-SHA256 of `{webhook-id}.{webhook-timestamp}.{body}` keyed with the base64-decoded
secret (`whsec_` prefix stripped). A sender rotating its secret signs with both, so any one
matching `v1` passes; other versions (`v1a`, asymmetric) are ignored. Five minutes either way.

Any sender may use it, so like generic webhooks a non-object JSON body is wrapped as
`{"data": value}`; the spec's `type` field names the event when present."""

import base64
import binascii
from collections.abc import Mapping

from pydantic import SecretStr

from integrations.ingress.domain.payloads import json_object_or_wrapped
from integrations.ingress.domain.schemes._signing import (
    any_matches,
    fresh_timestamp,
    hmac_sha256,
    reject,
    required_header,
    required_secret,
)
from integrations.ingress.domain.schemes.base import DeliveryFacts, TimestampedScheme
from integrations.ingress.domain.types import header
from integrations.providers import SignatureScheme

SIGNATURE_HEADER = "webhook-signature"
ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
WHSEC_PREFIX = "whsec_"


class StandardWebhooksScheme(TimestampedScheme):
    SIGNATURE_HEADER = SIGNATURE_HEADER

    @property
    def scheme(self) -> SignatureScheme:
        return "standard_webhooks"

    @property
    def kept_headers(self) -> frozenset[str]:
        return frozenset({"webhook-id", "webhook-timestamp"})

    def verify(self, *, headers: Mapping[str, str], body: bytes, secret: SecretStr | None) -> None:
        key = signing_key(required_secret(secret))
        message_id = required_header(headers, ID_HEADER)
        timestamp = required_header(headers, TIMESTAMP_HEADER)
        signatures = required_header(headers, self._signature_header)
        signed_at = fresh_timestamp(timestamp, now=self._clock(), tolerance=self._tolerance)
        signed = message_id.encode("utf-8", "surrogatepass") + b"." + signed_at + b"." + body
        expected = base64.b64encode(hmac_sha256(key, signed))
        candidates = [
            signature
            for version, _, signature in (item.partition(",") for item in signatures.split())
            if version == "v1"
        ]
        if not any_matches(expected, candidates):
            raise reject()

    def read(self, *, headers: Mapping[str, str], body: bytes, webhook_type: str) -> DeliveryFacts:
        payload = json_object_or_wrapped(body)
        declared_type = payload.get("type")
        event_type = declared_type if isinstance(declared_type, str) and declared_type else None
        return DeliveryFacts(
            payload=payload,
            event_type=event_type or webhook_type or "webhook",
            delivery_id=header(headers, ID_HEADER),
        )


def signing_key(secret: str) -> bytes:
    """An undecodable secret is a misconfiguration; it still rejects (403), never passes."""
    try:
        key = base64.b64decode(secret.removeprefix(WHSEC_PREFIX), validate=True)
    except (binascii.Error, ValueError) as error:
        raise reject("The webhook secret is not a valid Standard Webhooks secret.") from error
    if not key:
        raise reject("The webhook secret is not a valid Standard Webhooks secret.")
    return key
