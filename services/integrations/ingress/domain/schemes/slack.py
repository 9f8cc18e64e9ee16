"""Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256(signing secret, "v0:{ts}:{body}")>` with
`X-Slack-Request-Timestamp`, five minutes either way.

Three body shapes reach one request URL: Events API JSON envelopes (`url_verification`, whose
challenge the HTTP layer echoes, and `event_callback`, typed by its inner event), slash
commands as a form, and interactions as a form whose `payload` field is JSON.

Every shape carries Slack's deprecated verification `token`, which still authenticates
requests to apps that check it: it is dropped from the payload, as a secret must never reach
an event (DESIGN §6)."""

import hashlib
from collections.abc import Mapping

from pydantic import SecretStr

from integrations.ingress.domain.payloads import form_fields, is_form, json_object
from integrations.ingress.domain.schemes._signing import (
    any_matches,
    fresh_timestamp,
    hmac_sha256,
    reject,
    required_header,
    required_secret,
)
from integrations.ingress.domain.schemes.base import DeliveryFacts, TimestampedScheme
from integrations.ingress.domain.types import JsonObject, header
from integrations.providers import InvalidWebhookPayload, SignatureScheme

SIGNATURE_HEADER = "X-Slack-Signature"
TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
_PREFIX = "v0="


class SlackScheme(TimestampedScheme):
    SIGNATURE_HEADER = SIGNATURE_HEADER

    @property
    def scheme(self) -> SignatureScheme:
        return "slack"

    @property
    def kept_headers(self) -> frozenset[str]:
        return frozenset({"x-slack-request-timestamp", "x-slack-retry-num", "x-slack-retry-reason"})

    def verify(self, *, headers: Mapping[str, str], body: bytes, secret: SecretStr | None) -> None:
        key = required_secret(secret).encode("utf-8")
        signature = required_header(headers, self._signature_header)
        timestamp = required_header(headers, TIMESTAMP_HEADER)
        signed_at = fresh_timestamp(timestamp, now=self._clock(), tolerance=self._tolerance)
        if not signature.startswith(_PREFIX):
            raise reject("The signature is not a v0= signature.")
        expected = hmac_sha256(key, b"v0:", signed_at, b":", body).hex().encode("ascii")
        if not any_matches(expected, [signature.removeprefix(_PREFIX).lower()]):
            raise reject()

    def read(self, *, headers: Mapping[str, str], body: bytes, webhook_type: str) -> DeliveryFacts:
        facts = _read_form(body) if is_form(headers) else _read_envelope(body)
        facts.payload.pop("token", None)
        if facts.delivery_id:
            return facts
        # Slash commands and some interactions carry no id; Slack does not retry them, so the
        # signed timestamp plus the body identifies the request well enough.
        timestamp = header(headers, TIMESTAMP_HEADER) or ""
        fallback = f"{timestamp}.{hashlib.sha256(body).hexdigest()[:32]}"
        return DeliveryFacts(
            payload=facts.payload,
            event_type=facts.event_type,
            delivery_id=fallback,
            challenge=facts.challenge,
        )


def _read_form(body: bytes) -> DeliveryFacts:
    fields = form_fields(body)
    if "payload" not in fields:
        return DeliveryFacts(
            payload=fields, event_type="slash_command", delivery_id=_text(fields, "trigger_id")
        )
    raw = fields["payload"]
    if not isinstance(raw, str):
        raise InvalidWebhookPayload("The interaction has more than one payload field.")
    payload = json_object(raw)
    return DeliveryFacts(
        payload=payload,
        event_type=_text(payload, "type") or "interaction",
        delivery_id=_text(payload, "trigger_id"),
    )


def _read_envelope(body: bytes) -> DeliveryFacts:
    payload = json_object(body)
    envelope_type = _text(payload, "type")
    if envelope_type == "url_verification":
        challenge = _text(payload, "challenge")
        if challenge is None:
            raise InvalidWebhookPayload("The url_verification request has no challenge.")
        return DeliveryFacts(payload=payload, event_type=envelope_type, challenge=challenge)
    if envelope_type == "event_callback":
        event = payload.get("event")
        event_type = _text(event, "type") if isinstance(event, dict) else None
        if event_type is None:
            raise InvalidWebhookPayload("The event_callback has no event type.")
        return DeliveryFacts(
            payload=payload, event_type=event_type, delivery_id=_text(payload, "event_id")
        )
    if envelope_type is None:
        raise InvalidWebhookPayload("The Slack request has no type.")
    return DeliveryFacts(
        payload=payload, event_type=envelope_type, delivery_id=_text(payload, "event_id")
    )


def _text(data: JsonObject, key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value else None
