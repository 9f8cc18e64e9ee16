"""Unsigned providers (SPEC WH-5): any request is accepted; generic bodies are kept as JSON
objects, forms, or wrapped values."""

import pytest

from integrations.providers import InvalidWebhookPayload
from tests.unit.ingress.support import json_body, receive

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("secret", [None, "", "a-secret-nobody-uses"])
def test_an_unsigned_request_is_accepted_with_or_without_a_secret(secret: str | None) -> None:
    """SPEC WH-5: unsigned providers accept unsigned requests."""
    body = json_body({"hello": "world"})
    delivery = receive(
        "generic_webhook", headers={}, body=body, secret=secret, webhook_type="plain"
    )
    assert delivery.payload == {"hello": "world"}
    assert delivery.event_type == "plain"  # the webhook type, as in the original


@pytest.mark.parametrize(
    ("body", "payload"),
    [
        (b"", {}),
        (b"  \n", {}),
        (b"[1, 2]", {"data": [1, 2]}),
        (b'"text"', {"data": "text"}),
        (b"null", {"data": None}),
    ],
)
def test_a_body_that_is_not_an_object_is_wrapped(body: bytes, payload: object) -> None:
    """`WebhookEventReceived.payload` is an object; a generic sender may post anything JSON."""
    assert receive("compass", headers={}, body=body, secret=None).payload == payload


def test_a_form_body_is_parsed_as_a_form() -> None:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    body = b"name=a+b&empty=&tag=x&tag=y"
    delivery = receive("slant3d", headers=headers, body=body, secret=None)
    assert delivery.payload == {"name": "a b", "empty": "", "tag": ["x", "y"]}


@pytest.mark.parametrize(
    "body", [b"{nope", b"\xff\xfe{}", b'{"a": NaN}', b"[1e999]", b'"\\ud800"', b"[" * 100_000]
)
def test_a_body_that_is_not_json_is_a_bad_payload(body: bytes) -> None:
    """Malformed JSON → 400, including what Python parses but the event cannot carry."""
    with pytest.raises(InvalidWebhookPayload):
        receive("generic_webhook", headers={}, body=body, secret=None)


def test_a_delivery_without_provider_id_gets_a_deterministic_content_id() -> None:
    body = json_body({"n": 1})
    first = receive("generic_webhook", headers={}, body=body, secret=None)
    again = receive("generic_webhook", headers={}, body=body, secret=None)
    other = receive("generic_webhook", headers={}, body=json_body({"n": 2}), secret=None)
    assert first.event_id == again.event_id != other.event_id
    assert first.event_id.startswith("sha256:")
    assert first.delivery_id is None
