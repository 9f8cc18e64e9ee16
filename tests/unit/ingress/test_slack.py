"""Slack requests (SPEC WH-5): `v0=` HMAC of `v0:{ts}:{body}`, five minutes either way, JSON
envelopes, slash-command forms and interaction forms carrying JSON under `payload=`."""

import json
from urllib.parse import urlencode

import pytest

from integrations.providers import InvalidWebhookPayload, InvalidWebhookSignature
from tests.unit.ingress.support import NOW, json_body, receive, slack_headers, verify

pytestmark = pytest.mark.unit

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
EVENT_CALLBACK = {
    "token": "legacy-verification-token",
    "team_id": "T1",
    "type": "event_callback",
    "event_id": "Ev08MFMKH6",
    "event": {"type": "app_mention", "text": "<@U1> hi"},
}


def test_an_events_api_callback_is_typed_by_its_inner_event() -> None:
    body = json_body(EVENT_CALLBACK)
    delivery = receive("slack", headers=slack_headers(SECRET, body, NOW), body=body, secret=SECRET)
    assert (delivery.event_type, delivery.event_id) == ("app_mention", "Ev08MFMKH6")
    assert not delivery.is_handshake


def test_a_retried_callback_keeps_its_event_id() -> None:
    body = json_body(EVENT_CALLBACK)
    retry = slack_headers(SECRET, body, NOW + 60) | {"X-Slack-Retry-Num": "1"}
    delivery = receive("slack", headers=retry, body=body, secret=SECRET, now=NOW + 60)
    assert delivery.event_id == "Ev08MFMKH6"
    assert delivery.headers["x-slack-retry-num"] == "1"
    assert "x-slack-signature" not in delivery.headers


def test_the_legacy_verification_token_never_reaches_the_payload() -> None:
    """DESIGN §6: no secret in event payloads."""
    body = json_body(EVENT_CALLBACK)
    delivery = receive("slack", headers=slack_headers(SECRET, body, NOW), body=body, secret=SECRET)
    assert "token" not in delivery.payload


def test_a_url_verification_is_a_handshake_with_its_challenge() -> None:
    challenge = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    body = json_body({"token": "t", "challenge": challenge, "type": "url_verification"})
    delivery = receive("slack", headers=slack_headers(SECRET, body, NOW), body=body, secret=SECRET)
    assert delivery.is_handshake
    assert delivery.challenge == challenge


def test_an_unsigned_url_verification_is_refused() -> None:
    body = json_body({"challenge": "c", "type": "url_verification"})
    with pytest.raises(InvalidWebhookSignature):
        receive("slack", headers={}, body=body, secret=SECRET)


def test_a_slash_command_form_is_parsed_into_fields() -> None:
    body = urlencode(
        {"token": "t", "command": "/deploy", "text": "", "trigger_id": "13.4.a"}
    ).encode()
    headers = slack_headers(SECRET, body, NOW) | FORM
    delivery = receive("slack", headers=headers, body=body, secret=SECRET)
    assert delivery.payload == {"command": "/deploy", "text": "", "trigger_id": "13.4.a"}
    assert (delivery.event_type, delivery.event_id) == ("slash_command", "13.4.a")


def test_an_interaction_reads_the_json_under_payload() -> None:
    interaction = {"type": "block_actions", "token": "t", "trigger_id": "9.8.x", "actions": []}
    body = urlencode({"payload": json.dumps(interaction)}).encode()
    delivery = receive(
        "slack", headers=slack_headers(SECRET, body, NOW) | FORM, body=body, secret=SECRET
    )
    assert delivery.payload == {"type": "block_actions", "trigger_id": "9.8.x", "actions": []}
    assert (delivery.event_type, delivery.event_id) == ("block_actions", "9.8.x")


def test_a_request_without_any_id_gets_one_from_its_timestamp_and_body() -> None:
    body = urlencode({"command": "/x"}).encode()
    headers = slack_headers(SECRET, body, NOW) | FORM
    first = receive("slack", headers=headers, body=body, secret=SECRET)
    later = slack_headers(SECRET, body, NOW + 1) | FORM
    second = receive("slack", headers=later, body=body, secret=SECRET, now=NOW + 1)
    assert first.event_id.startswith(f"{NOW}.")
    assert first.event_id != second.event_id


@pytest.mark.parametrize("interaction", ["not json", "[1]"])
def test_an_interaction_whose_payload_is_not_a_json_object_is_a_bad_payload(
    interaction: str,
) -> None:
    body = urlencode({"payload": interaction}).encode()
    with pytest.raises(InvalidWebhookPayload):
        receive("slack", headers=slack_headers(SECRET, body, NOW) | FORM, body=body, secret=SECRET)


@pytest.mark.parametrize("offset", [300, -300])
def test_timestamps_within_five_minutes_either_way_pass(offset: int) -> None:
    body = json_body(EVENT_CALLBACK)
    verify("slack", headers=slack_headers(SECRET, body, NOW + offset), body=body, secret=SECRET)


@pytest.mark.parametrize("offset", [301, -301])
def test_expired_and_future_timestamps_are_refused(offset: int) -> None:
    body = json_body(EVENT_CALLBACK)
    with pytest.raises(InvalidWebhookSignature):
        verify("slack", headers=slack_headers(SECRET, body, NOW + offset), body=body, secret=SECRET)


def test_a_tampered_body_is_refused() -> None:
    body = json_body(EVENT_CALLBACK)
    with pytest.raises(InvalidWebhookSignature):
        verify("slack", headers=slack_headers(SECRET, body, NOW), body=body + b"\n", secret=SECRET)


def test_a_timestamp_changed_after_signing_is_refused() -> None:
    body = json_body(EVENT_CALLBACK)
    headers = slack_headers(SECRET, body, NOW) | {"X-Slack-Request-Timestamp": str(NOW + 1)}
    with pytest.raises(InvalidWebhookSignature):
        verify("slack", headers=headers, body=body, secret=SECRET)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    body = json_body(EVENT_CALLBACK)
    with pytest.raises(InvalidWebhookSignature):
        verify("slack", headers=slack_headers("other", body, NOW), body=body, secret=SECRET)


@pytest.mark.parametrize("missing", ["X-Slack-Signature", "X-Slack-Request-Timestamp"])
def test_a_missing_header_is_refused(missing: str) -> None:
    body = json_body(EVENT_CALLBACK)
    headers = {k: v for k, v in slack_headers(SECRET, body, NOW).items() if k != missing}
    with pytest.raises(InvalidWebhookSignature):
        verify("slack", headers=headers, body=body, secret=SECRET)


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_secret_fails_closed(secret: str | None) -> None:
    """SPEC WH-5."""
    body = json_body(EVENT_CALLBACK)
    with pytest.raises(InvalidWebhookSignature):
        verify("slack", headers=slack_headers("", body, NOW), body=body, secret=secret)


@pytest.mark.parametrize(
    "envelope", [{"event_id": "Ev1"}, {"type": "event_callback", "event": "x"}, [1]]
)
def test_an_envelope_without_a_type_is_a_bad_payload(envelope: object) -> None:
    body = json_body(envelope)
    with pytest.raises(InvalidWebhookPayload):
        receive("slack", headers=slack_headers(SECRET, body, NOW), body=body, secret=SECRET)
