"""Stripe deliveries (SPEC WH-5): `Stripe-Signature` with `t=` and `v1=`s, a 300 s window,
event id and type from the payload. Exa signs the same way under `Exa-Signature`."""

import pytest

from integrations.providers import InvalidWebhookPayload, InvalidWebhookSignature
from tests.unit.ingress.support import NOW, json_body, receive, stripe_signature, verify

pytestmark = pytest.mark.unit

SECRET = "whsec_test_5Yq2bT7s0mJ"
EVENT = {"id": "evt_1NG8Du2eZvKYlo2CUI79vXWy", "object": "event", "type": "invoice.paid"}
BODY = json_body(EVENT)


def signed(body: bytes = BODY, *, at: int = NOW, secret: str = SECRET) -> dict[str, str]:
    return {"Stripe-Signature": stripe_signature(secret, body, at), "User-Agent": "Stripe/1.0"}


def test_a_signed_event_gets_its_id_and_type_from_the_payload() -> None:
    delivery = receive("stripe", headers=signed(), body=BODY, secret=SECRET)
    assert (delivery.event_id, delivery.event_type) == (EVENT["id"], "invoice.paid")
    assert delivery.payload == EVENT
    assert delivery.headers == {"user-agent": "Stripe/1.0"}


def test_any_v1_signature_made_with_the_secret_passes_while_secrets_roll() -> None:
    header = stripe_signature("whsec_old", BODY, NOW, also=(SECRET,))
    verify("stripe", headers={"Stripe-Signature": header}, body=BODY, secret=SECRET)


def test_only_v1_signatures_count() -> None:
    v0_only = stripe_signature(SECRET, BODY, NOW).replace("v1=", "v0=")
    with pytest.raises(InvalidWebhookSignature):
        verify("stripe", headers={"Stripe-Signature": v0_only}, body=BODY, secret=SECRET)


@pytest.mark.parametrize("age", [0, 300, -300])
def test_timestamps_within_five_minutes_either_way_pass(age: int) -> None:
    verify("stripe", headers=signed(at=NOW - age), body=BODY, secret=SECRET)


@pytest.mark.parametrize("age", [301, -301, NOW])
def test_expired_and_future_timestamps_are_refused(age: int) -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("stripe", headers=signed(at=NOW - age), body=BODY, secret=SECRET)


def test_a_tampered_body_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("stripe", headers=signed(), body=BODY + b" ", secret=SECRET)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("stripe", headers=signed(secret="whsec_other"), body=BODY, secret=SECRET)


@pytest.mark.parametrize(
    "header",
    [
        "",
        "v1=abc",  # no timestamp
        f"t={NOW}",  # no signature
        f"t={NOW},t={NOW},v1=00",  # two timestamps
        f"t=+{NOW},v1=00",
        f"t={NOW}.5,v1=00",
        "garbage",
    ],
)
def test_malformed_signature_headers_are_refused(header: str) -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("stripe", headers={"Stripe-Signature": header}, body=BODY, secret=SECRET)


def test_a_missing_signature_header_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("stripe", headers={}, body=BODY, secret=SECRET)


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_secret_fails_closed(secret: str | None) -> None:
    """SPEC WH-5."""
    with pytest.raises(InvalidWebhookSignature):
        verify("stripe", headers=signed(secret=""), body=BODY, secret=secret)


def test_exa_is_verified_under_its_own_header() -> None:
    header = stripe_signature(SECRET, BODY, NOW)
    verify("exa", headers={"Exa-Signature": header}, body=BODY, secret=SECRET)
    with pytest.raises(InvalidWebhookSignature):
        verify("exa", headers={"Stripe-Signature": header}, body=BODY, secret=SECRET)


@pytest.mark.parametrize(
    "event", [{"type": "invoice.paid"}, {"id": "evt_1"}, {"id": 5, "type": "x"}, [EVENT]]
)
def test_an_event_without_id_or_type_is_a_bad_payload(event: object) -> None:
    body = json_body(event)
    with pytest.raises(InvalidWebhookPayload):
        receive("stripe", headers=signed(body), body=body, secret=SECRET)
