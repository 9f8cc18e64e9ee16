"""Telegram updates (SPEC WH-5): our secret echoed in `X-Telegram-Bot-Api-Secret-Token`,
`update_id` as the event id, the update's kind (and a message's content kind) as its type."""

import pytest

from integrations.providers import InvalidWebhookPayload, InvalidWebhookSignature
from tests.unit.ingress.support import json_body, receive, verify

pytestmark = pytest.mark.unit

SECRET = "Tg_secret-token-0123456789"
SIGNATURE_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEADERS = {SIGNATURE_HEADER: SECRET}
UPDATE = {"update_id": 10000, "message": {"message_id": 1, "chat": {"id": 5}, "text": "hi"}}


def test_an_update_with_the_secret_token_gets_its_kind_and_update_id() -> None:
    body = json_body(UPDATE)
    delivery = receive("telegram", headers=HEADERS, body=body, secret=SECRET)
    assert (delivery.event_type, delivery.event_id) == ("message.text", "10000")
    assert delivery.headers == {}  # the secret token header is never kept


@pytest.mark.parametrize(
    ("update", "event_type"),
    [
        ({"update_id": 1, "message": {"photo": [], "caption": "c"}}, "message.photo"),
        ({"update_id": 1, "edited_message": {"text": "x"}}, "edited_message.text"),
        ({"update_id": 1, "callback_query": {"id": "q"}}, "callback_query"),
        ({"update_id": 1, "message": {"new_chat_members": []}}, "message"),
        ({"update_id": 1}, "update"),
    ],
)
def test_the_event_type_is_the_update_kind(update: dict[str, object], event_type: str) -> None:
    body = json_body(update)
    assert receive("telegram", headers=HEADERS, body=body, secret=SECRET).event_type == event_type


def test_a_wrong_secret_token_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("telegram", headers={SIGNATURE_HEADER: "guess"}, body=b"{}", secret=SECRET)


def test_a_missing_secret_token_header_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("telegram", headers={}, body=json_body(UPDATE), secret=SECRET)


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_secret_fails_closed(secret: str | None) -> None:
    """SPEC WH-5: even an empty token header does not match an absent secret."""
    headers = {"X-Telegram-Bot-Api-Secret-Token": ""}
    with pytest.raises(InvalidWebhookSignature):
        verify("telegram", headers=headers, body=json_body(UPDATE), secret=secret)


@pytest.mark.parametrize(
    "update", [{"message": {}}, {"update_id": "1"}, {"update_id": True}, [UPDATE]]
)
def test_an_update_without_an_integer_update_id_is_a_bad_payload(update: object) -> None:
    with pytest.raises(InvalidWebhookPayload):
        receive("telegram", headers=HEADERS, body=json_body(update), secret=SECRET)
