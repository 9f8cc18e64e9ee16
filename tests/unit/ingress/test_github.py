"""GitHub deliveries (SPEC WH-5): `X-Hub-Signature-256` over the raw body, `X-GitHub-Event`
required, event type `{event}.{action}`."""

from urllib.parse import urlencode

import pytest

from integrations.providers import InvalidWebhookPayload, InvalidWebhookSignature
from tests.unit.ingress.support import github_signature, json_body, receive, verify

pytestmark = pytest.mark.unit

SECRET = "s3cret-github"
BODY = json_body({"action": "opened", "number": 7})


def headers(
    body: bytes = BODY, *, secret: str = SECRET, event: str = "pull_request"
) -> dict[str, str]:
    return {
        "X-Hub-Signature-256": github_signature(secret, body),
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "X-GitHub-Hook-ID": "292430182",
        "User-Agent": "GitHub-Hookshot/044aadd",
        "Content-Type": "application/json",
    }


def test_a_signed_delivery_gets_event_and_action_as_its_type() -> None:
    """SPEC WH-5: `{event}.{action}` when the payload has an action."""
    delivery = receive("github", headers=headers(), body=BODY, secret=SECRET)
    assert delivery.event_type == "pull_request.opened"
    assert delivery.payload == {"action": "opened", "number": 7}


def test_the_event_id_is_the_github_delivery_id() -> None:
    delivery = receive("github", headers=headers(), body=BODY, secret=SECRET)
    assert delivery.event_id == "72d3162e-cc78-11e3-81ab-4c9367dc0958"


def test_a_payload_without_action_is_typed_by_the_event_alone() -> None:
    body = json_body({"ref": "refs/heads/main"})
    delivery = receive("github", headers=headers(body, event="push"), body=body, secret=SECRET)
    assert delivery.event_type == "push"


def test_a_ping_passes_through_as_ping() -> None:
    """SPEC WH-5, WH-6: the ping waiter looks for event type `ping`."""
    body = json_body({"zen": "Design for failure.", "hook_id": 1, "action": "created"})
    delivery = receive("github", headers=headers(body, event="ping"), body=body, secret=SECRET)
    assert delivery.event_type == "ping"


def test_kept_headers_are_lowercased_and_exclude_the_signature() -> None:
    kept = receive("github", headers=headers(), body=BODY, secret=SECRET).headers
    assert kept == {
        "x-github-event": "pull_request",
        "x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        "x-github-hook-id": "292430182",
        "user-agent": "GitHub-Hookshot/044aadd",
        "content-type": "application/json",
    }


def test_a_form_encoded_delivery_reads_the_json_under_payload() -> None:
    body = urlencode({"payload": '{"action": "closed"}'}).encode()
    form_headers = headers(body, event="issues") | {
        "Content-Type": "application/x-www-form-urlencoded"
    }
    delivery = receive("github", headers=form_headers, body=body, secret=SECRET)
    assert delivery.event_type == "issues.closed"


def test_a_missing_event_header_is_a_bad_payload() -> None:
    """SPEC WH-5: missing `X-GitHub-Event` → 400."""
    without_event = {k: v for k, v in headers().items() if k != "X-GitHub-Event"}
    with pytest.raises(InvalidWebhookPayload):
        receive("github", headers=without_event, body=BODY, secret=SECRET)


def test_a_missing_signature_is_refused() -> None:
    """SPEC WH-5: missing `X-Hub-Signature-256` → 403."""
    unsigned = {k: v for k, v in headers().items() if k != "X-Hub-Signature-256"}
    with pytest.raises(InvalidWebhookSignature):
        verify("github", headers=unsigned, body=BODY, secret=SECRET)


def test_a_signature_is_checked_before_the_event_header() -> None:
    only_signature = {"X-Hub-Signature-256": "sha256=00"}
    with pytest.raises(InvalidWebhookSignature):
        receive("github", headers=only_signature, body=BODY, secret=SECRET)


def test_a_tampered_body_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("github", headers=headers(), body=BODY.replace(b"7", b"8"), secret=SECRET)


def test_a_signature_made_with_another_secret_is_refused() -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("github", headers=headers(secret="other"), body=BODY, secret=SECRET)


@pytest.mark.parametrize("signature", ["", "sha1=abc", "757107ea", "sha256=", "sha256=zz"])
def test_malformed_signatures_are_refused(signature: str) -> None:
    with pytest.raises(InvalidWebhookSignature):
        verify("github", headers={"X-Hub-Signature-256": signature}, body=BODY, secret=SECRET)


def test_header_names_match_in_any_case() -> None:
    lowered = {name.lower(): value for name, value in headers().items()}
    assert receive("github", headers=lowered, body=BODY, secret=SECRET).event_type == (
        "pull_request.opened"
    )


@pytest.mark.parametrize("secret", [None, ""])
def test_a_missing_secret_fails_closed(secret: str | None) -> None:
    """SPEC WH-5: signed providers fail closed when their secret is missing."""
    with pytest.raises(InvalidWebhookSignature):
        verify("github", headers=headers(secret=""), body=BODY, secret=secret)


@pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b""])
def test_a_body_that_is_not_a_json_object_is_a_bad_payload(body: bytes) -> None:
    """GitHub always sends an object: anything else is malformed, not wrapped."""
    with pytest.raises(InvalidWebhookPayload):
        receive("github", headers=headers(body), body=body, secret=SECRET)
