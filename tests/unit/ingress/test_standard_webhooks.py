"""Standard Webhooks (SPEC WH-5): `webhook-id`/`-timestamp`/`-signature`, base64 `whsec_`
secrets, several `v1` signatures while a secret rotates, five minutes either way."""

import pytest

from integrations.providers import InvalidWebhookSignature
from tests.unit.ingress.support import NOW, json_body, receive, standard_headers, verify

pytestmark = pytest.mark.unit

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
OLD_SECRET = "whsec_" + "b2xkLXNlY3JldC1vbGQtc2VjcmV0LW9sZA=="
BODY = json_body({"type": "invoice.paid", "timestamp": "2024-01-01T00:00:00Z", "data": {}})


def signed(
    body: bytes = BODY, *, at: int = NOW, secrets: tuple[str, ...] = (SECRET,)
) -> dict[str, str]:
    return standard_headers(list(secrets), "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", at, body)


def test_a_signed_message_is_typed_by_its_type_field_and_identified_by_webhook_id() -> None:
    delivery = receive("standard_webhook", headers=signed(), body=BODY, secret=SECRET)
    assert (delivery.event_type, delivery.event_id) == (
        "invoice.paid",
        "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
    )
    assert set(delivery.headers) == {"webhook-id", "webhook-timestamp"}


def test_a_message_without_type_takes_the_webhook_type() -> None:
    body = json_body({"anything": 1})
    delivery = receive(
        "standard_webhook", headers=signed(body), body=body, secret=SECRET, webhook_type="plain"
    )
    assert delivery.event_type == "plain"


def test_a_non_object_body_is_wrapped_under_data() -> None:
    """Any sender may use the scheme: a JSON array is kept, as `{"data": [...]}`."""
    body = json_body([1, 2])
    delivery = receive("standard_webhook", headers=signed(body), body=body, secret=SECRET)
    assert delivery.payload == {"data": [1, 2]}


@pytest.mark.parametrize(
    "secrets", [(OLD_SECRET, SECRET), (SECRET, OLD_SECRET)], ids=["new-last", "new-first"]
)
def test_any_of_several_signatures_verifies_while_the_secret_rotates(
    secrets: tuple[str, ...],
) -> None:
    verify("standard_webhook", headers=signed(secrets=secrets), body=BODY, secret=SECRET)


def test_signatures_of_other_versions_are_ignored() -> None:
    headers = signed()
    headers["webhook-signature"] = headers["webhook-signature"].replace("v1,", "v1a,")
    with pytest.raises(InvalidWebhookSignature):
        verify("standard_webhook", headers=headers, body=BODY, secret=SECRET)


@pytest.mark.parametrize("offset", [300, -300])
def test_timestamps_within_five_minutes_either_way_pass(offset: int) -> None:
    verify("standard_webhook", headers=signed(at=NOW + offset), body=BODY, secret=SECRET)


@pytest.mark.parametrize("offset", [301, -301])
def test_expired_and_future_timestamps_are_refused(offset: int) -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("standard_webhook", headers=signed(at=NOW + offset), body=BODY, secret=SECRET)


def test_a_tampered_body_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("standard_webhook", headers=signed(), body=BODY[:-1], secret=SECRET)


def test_a_changed_message_id_is_refused() -> None:
    headers = signed() | {"webhook-id": "msg_other"}
    with pytest.raises(InvalidWebhookSignature):
        verify("standard_webhook", headers=headers, body=BODY, secret=SECRET)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("standard_webhook", headers=signed(secrets=(OLD_SECRET,)), body=BODY, secret=SECRET)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_refused(missing: str) -> None:
    headers = {k: v for k, v in signed().items() if k != missing}
    with pytest.raises(InvalidWebhookSignature):
        verify("standard_webhook", headers=headers, body=BODY, secret=SECRET)


@pytest.mark.parametrize("secret", [None, "", "whsec_", "whsec_not base64!"])
def test_a_missing_or_unusable_secret_fails_closed(secret: str | None) -> None:
    """SPEC WH-5: a secret that cannot key the HMAC rejects, it never passes."""
    with pytest.raises(InvalidWebhookSignature):
        verify("standard_webhook", headers=signed(), body=BODY, secret=secret)


def test_a_secret_without_the_whsec_prefix_is_used_as_base64() -> None:
    verify("standard_webhook", headers=signed(), body=BODY, secret=SECRET.removeprefix("whsec_"))
