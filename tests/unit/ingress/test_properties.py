"""Whatever arrives, ingress answers 400 or 403 or accepts a well-formed event; nothing verifies
without the right secret (SPEC WH-5, DESIGN §6)."""

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.contracts import WebhookEventReceived
from integrations.ingress.domain.events import ParsedDelivery
from integrations.providers import (
    InvalidWebhookPayload,
    InvalidWebhookSignature,
)
from tests.unit.ingress.strategies import (
    CONFIGS,
    SIGNED,
    bodies,
    headers,
    secrets,
    secrets_for,
    signed_headers,
)
from tests.unit.ingress.support import receive, verify

pytestmark = pytest.mark.unit


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
    signed = signed_headers(config, secret, body)
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


@settings(max_examples=200)
@given(provider=st.sampled_from(SIGNED), body=bodies, data=st.data())
def test_a_request_signed_with_another_secret_never_verifies(
    provider: str, body: bytes, data: st.DataObject
) -> None:
    config = CONFIGS[provider]
    signing, held = data.draw(secrets_for(config)), data.draw(secrets_for(config))
    headers = signed_headers(config, signing, body)
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
    verify(provider, headers=signed_headers(config, secret, body), body=body, secret=secret)
