"""A hex HMAC-SHA256 of the raw body in a header the provider names (`signature_header`,
required by `WebhookConfig` for this scheme), bare or labelled `sha256=<hex>` /
`hmac-sha256=<hex>` (Airtable). No timestamp, so no replay window: senders using this scheme
offer none.

A missing secret rejects (403) like every signed scheme (SPEC WH-5, the `WebhookVerifier`
contract): whether a delivery must be signed is the declaration's `signature_scheme`, not the
presence of a stored secret, so a lost secret cannot turn signing off.

The key is the secret's UTF-8 bytes. Airtable keys with the base64-decoded secret it returned;
`key_encoding="base64"` does that, to be selected from the declaration once `WebhookConfig`
can say so."""

import base64
import binascii
import time
from collections.abc import Mapping
from typing import Literal

from pydantic import SecretStr

from integrations.ingress.domain.payloads import body_object
from integrations.ingress.domain.schemes._signing import (
    any_matches,
    hmac_sha256,
    reject,
    required_header,
    required_secret,
)
from integrations.ingress.domain.schemes.base import DeliveryFacts
from integrations.ingress.domain.types import Clock
from integrations.providers import SignatureScheme

KeyEncoding = Literal["utf-8", "base64"]
_LABELS = ("sha256=", "hmac-sha256=")


class HmacSha256Scheme:
    def __init__(
        self,
        *,
        signature_header: str | None,
        clock: Clock = time.time,
        key_encoding: KeyEncoding = "utf-8",
    ) -> None:
        if not signature_header:
            raise ValueError("the hmac_sha256 scheme needs the provider's signature_header")
        self._signature_header = signature_header
        self._key_encoding: KeyEncoding = key_encoding

    @property
    def scheme(self) -> SignatureScheme:
        return "hmac_sha256"

    @property
    def kept_headers(self) -> frozenset[str]:
        return frozenset()

    def verify(self, *, headers: Mapping[str, str], body: bytes, secret: SecretStr | None) -> None:
        key = self._key(required_secret(secret))
        signature = required_header(headers, self._signature_header).lower()
        for label in _LABELS:
            signature = signature.removeprefix(label)
        if not any_matches(hmac_sha256(key, body).hex().encode("ascii"), [signature]):
            raise reject()

    def read(self, *, headers: Mapping[str, str], body: bytes, webhook_type: str) -> DeliveryFacts:
        return DeliveryFacts(
            payload=body_object(headers, body), event_type=webhook_type or "webhook"
        )

    def _key(self, secret: str) -> bytes:
        if self._key_encoding == "utf-8":
            return secret.encode("utf-8")
        try:
            key = base64.b64decode(secret, validate=True)
        except (binascii.Error, ValueError) as error:
            raise reject("The webhook secret is not valid base64.") from error
        if not key:
            raise reject("The webhook secret is empty.")
        return key
