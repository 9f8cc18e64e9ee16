"""Whatever arrives, ingress answers 400 or 403 or accepts a well-formed event; nothing verifies
without the right secret (SPEC WH-5, DESIGN §6)."""

import base64
import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.contracts import WebhookEventReceived
from integrations.ingress.domain.events import ParsedDelivery
from integrations.providers import (
    InvalidWebhookPayload,
    InvalidWebhookSignature,
    WebhookConfig,
)
from tests.unit.ingress.support import (
    NOW,
    REGISTRY,
    github_signature,
    hex_hmac,
    receive,
    slack_headers,
    standard_headers,
    stripe_signature,
    verify,
)

pytestmark = pytest.mark.unit

CONFIGS = {name: config for name in REGISTRY.names() if (config := REGISTRY.webhook_config(name))}
SIGNED = sorted(name for name, config in CONFIGS.items() if config.signed)
KNOWN_HEADERS = [
    "X-Hub-Signature-256",
    "X-GitHub-Event",
    "X-GitHub-Delivery",
    "Stripe-Signature",
    "Exa-Signature",
    "X-Slack-Signature",
    "X-Slack-Request-Timestamp",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "X-Telegram-Bot-Api-Secret-Token",
    "X-Airtable-Content-MAC",
    "Content-Type",
]
header_values = st.one_of(
    st.text(max_size=80),
    st.integers(NOW - 400, NOW + 400).map(str),  # timestamps that pass the window check
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "v1,", "t=1,v1="]),
    st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map("sha256=".__add__),
)
headers = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN_HEADERS), st.text(max_size=20)), header_values, max_size=8
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=12,
    ).map(lambda value: json.dumps(value).encode()),
)
secrets = st.one_of(
    st.none(), st.text(max_size=40), st.just("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
)


@settings(max_examples=200)
@given(provider=st.sampled_from(sorted(CONFIGS)), headers=headers, body=bodies, secret=secrets)
def test_any_request_is_accepted_as_a_valid_event_or_refused_with_400_or_403(
    provider: str, headers: dict[str, str], body: bytes, secret: str | None
) -> None:
    try:
        delivery = receive(provider, headers=headers, body=body, secret=secret, webhook_type="t")
    except (InvalidWebhookPayload, InvalidWebhookSignature):
        return
    assert CONFIGS[provider].signature_scheme == "none"  # nothing signed passes by chance
    assert_publishable(provider, delivery)


@settings(max_examples=200)
@given(provider=st.sampled_from(SIGNED), extra=headers, body=bodies, data=st.data())
def test_any_correctly_signed_body_is_a_valid_event_or_a_400(
    provider: str, extra: dict[str, str], body: bytes, data: st.DataObject
) -> None:
    """The parsers of signed schemes see arbitrary bodies and headers once signed."""
    config = CONFIGS[provider]
    secret = data.draw(secrets_for(config))
    signed = _signed_headers(config, secret, body)
    request_headers = {k: v for k, v in extra.items() if k.lower() not in _lowered(signed)}
    try:
        delivery = receive(
            provider, headers=request_headers | signed, body=body, secret=secret, webhook_type="t"
        )
    except InvalidWebhookPayload:
        return
    assert_publishable(provider, delivery)


def _lowered(headers: dict[str, str]) -> set[str]:
    return {name.lower() for name in headers}


def assert_publishable(provider: str, delivery: ParsedDelivery) -> None:
    """The facts fit the contract: the event validates and serializes."""
    event = WebhookEventReceived(
        event_id=delivery.event_id,
        provider=provider,
        webhook_id="wh-1",
        user_id="user-1",
        event_type=delivery.event_type,
        payload=delivery.payload,
        received_at=datetime.now(UTC),
        headers=delivery.headers,
    )
    event.model_dump_json().encode("utf-8")


@settings(max_examples=200)
@given(provider=st.sampled_from(SIGNED), headers=headers, body=bodies, secret=secrets)
def test_arbitrary_headers_never_verify_a_signed_provider(
    provider: str, headers: dict[str, str], body: bytes, secret: str | None
) -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify(provider, headers=headers, body=body, secret=secret)


def _signed_headers(config: WebhookConfig, secret: str, body: bytes) -> dict[str, str]:
    """A request correctly signed with `secret`, under the provider's scheme and header."""
    match config.signature_scheme:
        case "github":
            return {"X-Hub-Signature-256": github_signature(secret, body)}
        case "stripe":
            header = config.signature_header or "Stripe-Signature"
            return {header: stripe_signature(secret, body, NOW)}
        case "slack":
            return slack_headers(secret, body, NOW)
        case "standard_webhooks":
            return standard_headers([secret], "msg_1", NOW, body)
        case "telegram":
            return {"X-Telegram-Bot-Api-Secret-Token": secret}
        case _:
            return {config.signature_header or "": hex_hmac(secret.encode(), body)}


def secrets_for(config: WebhookConfig) -> st.SearchStrategy[str]:
    """Secrets a provider can hold: Standard Webhooks keys are base64 (`whsec_...`); Telegram
    tokens are 1-256 of `A-Za-z0-9_-`; the others any text, keyed as UTF-8."""
    keys = st.binary(min_size=1, max_size=32)
    match config.signature_scheme:
        case "standard_webhooks":
            return keys.map(lambda key: "whsec_" + base64.b64encode(key).decode())
        case "telegram":
            return keys.map(lambda key: base64.urlsafe_b64encode(key).decode().rstrip("="))
        case _:
            return st.text(min_size=1, max_size=40)


@settings(max_examples=200)
@given(provider=st.sampled_from(SIGNED), body=bodies, data=st.data())
def test_a_request_signed_with_another_secret_never_verifies(
    provider: str, body: bytes, data: st.DataObject
) -> None:
    config = CONFIGS[provider]
    signing, held = data.draw(secrets_for(config)), data.draw(secrets_for(config))
    headers = _signed_headers(config, signing, body)
    if held == signing:
        verify(provider, headers=headers, body=body, secret=held)
        return
    with pytest.raises(InvalidWebhookSignature):
        verify(provider, headers=headers, body=body, secret=held)


@settings(max_examples=200)
@given(provider=st.sampled_from(SIGNED), body=bodies, data=st.data())
def test_a_request_signed_with_the_secret_verifies(
    provider: str, body: bytes, data: st.DataObject
) -> None:
    config = CONFIGS[provider]
    secret = data.draw(secrets_for(config))
    verify(provider, headers=_signed_headers(config, secret, body), body=body, secret=secret)
