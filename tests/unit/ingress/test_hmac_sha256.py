"""Hex HMAC-SHA256 of the body in a provider-named header (SPEC WH-5), as Airtable sends it
(`X-Airtable-Content-MAC: hmac-sha256=<hex>`) or bare."""

import base64

import pytest
from pydantic import SecretStr

from integrations.ingress.domain.schemes.hmac_sha256 import HmacSha256Scheme
from integrations.providers import InvalidWebhookSignature, WebhookConfig
from tests.unit.ingress.support import hex_hmac, json_body, receive, verify

pytestmark = pytest.mark.unit

SECRET = "manual-webhook-secret"
BODY = json_body({"base": {"id": "app1"}, "webhook": {"id": "ach1"}})
MANUAL = WebhookConfig(
    mode="manual", signature_scheme="hmac_sha256", signature_header="X-Signature"
)


@pytest.mark.parametrize("label", ["", "sha256=", "hmac-sha256="])
def test_a_signed_body_passes_bare_or_labelled(label: str) -> None:
    headers = {"X-Airtable-Content-MAC": label + hex_hmac(SECRET.encode(), BODY)}
    delivery = receive("airtable", headers=headers, body=BODY, secret=SECRET, webhook_type="base")
    assert delivery.payload == {"base": {"id": "app1"}, "webhook": {"id": "ach1"}}
    assert delivery.event_type == "base"
    assert delivery.headers == {}


def test_the_header_comes_from_the_declaration() -> None:
    signature = hex_hmac(SECRET.encode(), BODY)
    verify("manual", config=MANUAL, headers={"x-signature": signature}, body=BODY, secret=SECRET)
    with pytest.raises(InvalidWebhookSignature):
        verify("airtable", headers={"X-Signature": signature}, body=BODY, secret=SECRET)


def test_a_form_body_is_parsed_as_a_form() -> None:
    body = b"a=1&b=2&b=3"
    headers = {
        "X-Signature": hex_hmac(SECRET.encode(), body),
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8",
    }
    delivery = receive("manual", config=MANUAL, headers=headers, body=body, secret=SECRET)
    assert delivery.payload == {"a": "1", "b": ["2", "3"]}


def test_a_tampered_body_is_refused() -> None:
    headers = {"X-Airtable-Content-MAC": hex_hmac(SECRET.encode(), BODY)}
    with pytest.raises(InvalidWebhookSignature):
        verify("airtable", headers=headers, body=BODY + b" ", secret=SECRET)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    headers = {"X-Airtable-Content-MAC": hex_hmac(b"other", BODY)}
    with pytest.raises(InvalidWebhookSignature):
        verify("airtable", headers=headers, body=BODY, secret=SECRET)


def test_a_missing_signature_header_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("airtable", headers={}, body=BODY, secret=SECRET)


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_secret_fails_closed(secret: str | None) -> None:
    """SPEC WH-5: the declaration says signed, so a webhook without a secret rejects rather
    than accepting unsigned requests."""
    headers = {"X-Airtable-Content-MAC": hex_hmac(b"", BODY)}
    with pytest.raises(InvalidWebhookSignature):
        verify("airtable", headers=headers, body=BODY, secret=secret)


def test_a_base64_key_encoding_keys_with_the_decoded_secret() -> None:
    """Airtable's MAC secret is base64; the scheme can key with its decoding."""
    raw_key = bytes(range(32))
    secret = base64.b64encode(raw_key).decode()
    scheme = HmacSha256Scheme(signature_header="X-Airtable-Content-MAC", key_encoding="base64")
    signature = "hmac-sha256=" + hex_hmac(raw_key, BODY)
    scheme.verify(
        headers={"X-Airtable-Content-MAC": signature}, body=BODY, secret=SecretStr(secret)
    )
    with pytest.raises(InvalidWebhookSignature):
        scheme.verify(
            headers={"X-Airtable-Content-MAC": signature}, body=BODY, secret=SecretStr("%%%")
        )


def test_the_scheme_needs_a_header_name() -> None:
    with pytest.raises(ValueError, match="signature_header"):
        HmacSha256Scheme(signature_header=None)
