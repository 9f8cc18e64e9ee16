import json

import pytest

from integrations.contracts import (
    DecodeError,
    InvalidMessage,
    Message,
    UnknownMessageType,
    WebhookEventReceived,
    WebhookState,
    build_headers,
    decode,
    decode_as,
    encode,
    registered_types,
)
from tests.unit.contracts.samples import SAMPLE_BY_TYPE

pytestmark = pytest.mark.unit

EVENT = SAMPLE_BY_TYPE[WebhookEventReceived]


def _headers(ce_type: str) -> list[tuple[str, bytes]]:
    return [("ce_type", ce_type.encode())]


@pytest.mark.parametrize(
    "message_type", list(registered_types().values()), ids=lambda t: t.__name__
)
def test_decode_picks_the_class_from_ce_type(message_type: type[Message]) -> None:
    sample = SAMPLE_BY_TYPE[message_type]
    headers = build_headers(sample, source="/test")

    decoded = decode(headers, encode(sample))

    assert type(decoded) is message_type
    assert decoded == sample


def test_encode_is_compact_utf8_json() -> None:
    body = encode(EVENT)

    assert b": " not in body
    assert b", " not in body
    assert "✓".encode() in body
    assert json.loads(body)["event_id"] == "delivery-1"


def test_decode_accepts_str_header_values() -> None:
    decoded = decode({"ce_type": WebhookEventReceived.ce_type}, encode(EVENT))

    assert decoded == EVENT


def test_an_unregistered_type_is_unknown() -> None:
    with pytest.raises(UnknownMessageType, match=r"integrations\.nothing") as caught:
        decode(_headers("integrations.nothing.happened.v1"), encode(EVENT))

    assert caught.value.ce_type == "integrations.nothing.happened.v1"
    assert isinstance(caught.value, DecodeError)


def test_a_record_without_ce_type_is_unknown() -> None:
    with pytest.raises(UnknownMessageType, match="no ce_type header"):
        decode([("content-type", b"application/json")], encode(EVENT))


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (b"{not json", "Invalid JSON"),
        (b"[1, 2]", "<body>"),
        (b"\xff\xfe", "<body>"),
        (b'{"event_id": "e-1"}', "provider: Field required"),
    ],
)
def test_an_unreadable_body_is_an_invalid_message(value: bytes, match: str) -> None:
    with pytest.raises(InvalidMessage, match=match) as caught:
        decode(_headers(WebhookEventReceived.ce_type), value)

    assert caught.value.ce_type == WebhookEventReceived.ce_type
    assert isinstance(caught.value, DecodeError)


def test_a_tombstone_is_not_a_message() -> None:
    with pytest.raises(InvalidMessage, match="tombstone"):
        decode(_headers(WebhookState.ce_type), None)


def test_invalid_message_errors_do_not_echo_the_input() -> None:
    body = json.loads(encode(SAMPLE_BY_TYPE[WebhookState]))
    body["secret_ciphertext"] = {"not": "a string: s3cr3t-looking"}

    with pytest.raises(InvalidMessage) as caught:
        decode_as(WebhookState, json.dumps(body).encode())

    assert "secret_ciphertext" in str(caught.value)
    assert "s3cr3t" not in str(caught.value)
    assert caught.value.__cause__ is None
