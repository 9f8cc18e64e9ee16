"""Properties of every signature scheme and payload parser taken one by one, beside the
provider-level ones of test_properties (SPEC WH-5, RT-14, DESIGN §6):

- every scheme of `SCHEMES`, under its own header name or another, refuses arbitrary requests
  with `InvalidWebhookSignature` only, and reads arbitrary bodies into a JSON object or refuses
  them with `InvalidWebhookPayload` only;
- every parser of `payloads` turns any bytes into re-encodable JSON or `InvalidWebhookPayload`;
- nothing verifies without the secret: not a tampered body, not a signature made with an
  empty key for a webhook that has no secret, not a correct signature outside the window;
- a verified delivery never keeps a header that authenticates (signatures, cookies, tokens).
"""

import json
import urllib.parse
from collections.abc import Callable
from typing import Any, Final

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

from integrations.ingress.domain import payloads
from integrations.ingress.domain.schemes._signing import DEFAULT_TOLERANCE_SECONDS
from integrations.ingress.domain.verification import SCHEMES
from integrations.providers import InvalidWebhookPayload, InvalidWebhookSignature
from tests.unit.ingress.strategies import (
    CONFIGS,
    SIGNED,
    bodies,
    headers,
    secrets,
    secrets_for,
    signed_headers,
)
from tests.unit.ingress.support import NOW, receive, verify

pytestmark = pytest.mark.unit

TIMESTAMPED: Final = sorted(
    name
    for name, config in CONFIGS.items()
    if config.signature_scheme in ("stripe", "slack", "standard_webhooks")
)
AUTHENTICATING: Final = [
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "X-Hub-Signature",
    "X-Hub-Signature-256",
    "Stripe-Signature",
    "Exa-Signature",
    "X-Slack-Signature",
    "webhook-signature",
    "X-Telegram-Bot-Api-Secret-Token",
    "X-Airtable-Content-MAC",
]
form_bodies = st.lists(
    st.tuples(st.sampled_from(["payload", "a", "b", ""]), st.one_of(st.text(max_size=30), bodies))
    .map(lambda pair: (pair[0], pair[1] if isinstance(pair[1], str) else pair[1].decode("latin-1")))
    .map(lambda pair: urllib.parse.urlencode([pair]).encode()),
    max_size=4,
).map(b"&".join)
any_body = st.one_of(bodies, form_bodies)
OTHER_HEADER: Final = "X-Some-Signature"
# hmac_sha256 has no header of its own: each provider names one (a construction error else).
header_names = st.sampled_from([None, OTHER_HEADER])


def _reencodable(value: Any) -> None:
    json.dumps(value, ensure_ascii=False, allow_nan=False).encode("utf-8")


def test_every_scheme_is_some_providers_so_the_provider_properties_cover_it_too() -> None:
    assert {config.signature_scheme for config in CONFIGS.values()} == set(SCHEMES)


@settings(max_examples=200)
@given(
    scheme=st.sampled_from(sorted(SCHEMES)),
    signature_header=header_names,
    request_headers=headers,
    body=any_body,
    secret=secrets,
)
def test_any_scheme_refuses_an_arbitrary_request_with_an_invalid_signature_only(
    scheme: str,
    signature_header: str | None,
    request_headers: dict[str, str],
    body: bytes,
    secret: str | None,
) -> None:
    header_name = signature_header or (OTHER_HEADER if scheme == "hmac_sha256" else None)
    verifier = SCHEMES[scheme](signature_header=header_name, clock=lambda: NOW)  # type: ignore[index]
    lowered = {name.lower(): value for name, value in request_headers.items()}
    held = None if secret is None else SecretStr(secret)
    if scheme == "none":
        verifier.verify(headers=lowered, body=body, secret=held)
        return
    with pytest.raises(InvalidWebhookSignature):
        verifier.verify(headers=lowered, body=body, secret=held)


@settings(max_examples=200)
@given(
    scheme=st.sampled_from(sorted(SCHEMES)),
    request_headers=headers,
    body=any_body,
    webhook_type=st.text(max_size=20),
)
def test_any_scheme_reads_an_arbitrary_body_as_a_json_object_or_an_invalid_payload_only(
    scheme: str, request_headers: dict[str, str], body: bytes, webhook_type: str
) -> None:
    reader = SCHEMES[scheme](signature_header=OTHER_HEADER, clock=lambda: NOW)  # type: ignore[index]
    lowered = {name.lower(): value for name, value in request_headers.items()}
    try:
        facts = reader.read(headers=lowered, body=body, webhook_type=webhook_type)
    except InvalidWebhookPayload:
        return
    assert isinstance(facts.payload, dict)
    _reencodable(facts.payload)
    assert isinstance(facts.event_type, str)
    assert facts.delivery_id is None or isinstance(facts.delivery_id, str)


PARSERS: Final[dict[str, Callable[[bytes], Any]]] = {
    "json_value": payloads.json_value,
    "json_object": payloads.json_object,
    "json_object_or_wrapped": payloads.json_object_or_wrapped,
    "form_fields": payloads.form_fields,
    "form_payload_object": payloads.form_payload_object,
    "body_object as JSON": lambda body: payloads.body_object({}, body),
    "body_object as a form": lambda body: payloads.body_object(
        {"content-type": payloads.FORM_CONTENT_TYPE}, body
    ),
}


@settings(max_examples=150)
@given(body=any_body)
@pytest.mark.parametrize("parser", PARSERS)
def test_every_payload_parser_gives_reencodable_json_or_an_invalid_payload_only(
    parser: str, body: bytes
) -> None:
    try:
        value = PARSERS[parser](body)
    except InvalidWebhookPayload:
        return
    _reencodable(value)
    if parser != "json_value":
        assert isinstance(value, dict)


@settings(max_examples=200)
@given(provider=st.sampled_from(SIGNED), body=bodies, tampered=bodies, data=st.data())
def test_a_signed_request_whose_body_was_changed_never_verifies(
    provider: str, body: bytes, tampered: bytes, data: st.DataObject
) -> None:
    config = CONFIGS[provider]
    assume(tampered != body and config.signature_scheme != "telegram")  # Telegram signs no body
    secret = data.draw(secrets_for(config))
    with pytest.raises(InvalidWebhookSignature):
        verify(
            provider,
            headers=signed_headers(config, secret, body),
            body=tampered,
            secret=secret,
        )


@settings(max_examples=100)
@given(provider=st.sampled_from(SIGNED), body=bodies, held=st.sampled_from([None, ""]))
def test_a_signature_made_with_an_empty_key_never_verifies_a_webhook_without_a_secret(
    provider: str, body: bytes, held: str | None
) -> None:
    """Fails closed (SPEC WH-5): an HMAC with an empty key is easy to make."""
    forged = signed_headers(CONFIGS[provider], "", body)
    with pytest.raises(InvalidWebhookSignature):
        verify(provider, headers=forged, body=body, secret=held)


@settings(max_examples=100)
@given(
    provider=st.sampled_from(TIMESTAMPED),
    body=bodies,
    skew=st.integers(DEFAULT_TOLERANCE_SECONDS + 1, 10**7),
    direction=st.sampled_from([-1, 1]),
    data=st.data(),
)
def test_a_correct_signature_outside_the_replay_window_never_verifies(
    provider: str, body: bytes, skew: int, direction: int, data: st.DataObject
) -> None:
    config = CONFIGS[provider]
    secret = data.draw(secrets_for(config))
    replayed = signed_headers(config, secret, body, at=NOW + direction * skew)
    with pytest.raises(InvalidWebhookSignature):
        verify(provider, headers=replayed, body=body, secret=secret)


@settings(max_examples=200)
@given(
    provider=st.sampled_from(sorted(CONFIGS)),
    body=bodies,
    extra=st.dictionaries(st.sampled_from(AUTHENTICATING), st.text(max_size=20), min_size=1),
    data=st.data(),
)
def test_a_verified_delivery_never_keeps_a_header_that_authenticates(
    provider: str, body: bytes, extra: dict[str, str], data: st.DataObject
) -> None:
    config = CONFIGS[provider]
    secret = data.draw(secrets_for(config)) if config.signed else None
    signed = signed_headers(config, secret, body) if secret is not None else {}
    unsigned = {k: v for k, v in extra.items() if k.lower() not in {s.lower() for s in signed}}
    try:
        delivery = receive(
            provider, headers=unsigned | signed, body=body, secret=secret, webhook_type="t"
        )
    except InvalidWebhookPayload:
        return
    assert not {name.lower() for name in AUTHENTICATING} & set(delivery.headers)
