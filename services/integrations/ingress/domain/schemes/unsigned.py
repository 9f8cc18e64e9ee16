"""Unsigned providers (generic webhooks, Compass, Slant 3D): every request is accepted
(SPEC WH-5), with or without a stored secret. The sender is arbitrary, so a form body is
parsed as a form, any other as JSON, and a non-object JSON value is wrapped as
`{"data": value}`. Such deliveries name no event: the webhook's type is the event type, as
in the original (`plain` for generic webhooks)."""

import time
from collections.abc import Mapping

from pydantic import SecretStr

from integrations.ingress.domain.payloads import body_object
from integrations.ingress.domain.schemes.base import DeliveryFacts
from integrations.ingress.domain.types import Clock
from integrations.providers import SignatureScheme


class UnsignedScheme:
    def __init__(self, *, signature_header: str | None = None, clock: Clock = time.time) -> None:
        pass  # nothing to configure: the uniform constructor keeps the scheme table data

    @property
    def scheme(self) -> SignatureScheme:
        return "none"

    @property
    def kept_headers(self) -> frozenset[str]:
        return frozenset()

    def verify(self, *, headers: Mapping[str, str], body: bytes, secret: SecretStr | None) -> None:
        return None

    def read(self, *, headers: Mapping[str, str], body: bytes, webhook_type: str) -> DeliveryFacts:
        return DeliveryFacts(
            payload=body_object(headers, body), event_type=webhook_type or "webhook"
        )
