"""From a verified request to the facts of `WebhookEventReceived` (SPEC WH-5, DESIGN §4):
event ids, kept headers, event type bounds."""

import pytest

from integrations.ingress.domain.events import MAX_EVENT_ID_LENGTH, ParsedDelivery, parse_delivery
from integrations.ingress.domain.verification import verify_request
from integrations.providers import InvalidWebhookPayload, WebhookConfig
from tests.unit.ingress.support import NOW, github_signature, hex_hmac, json_body, receive

pytestmark = pytest.mark.unit

SECRET = "s"
BODY = json_body({"zen": "x"})
UNSIGNED_WITH_ID = WebhookConfig(
    mode="manual", signature_scheme="none", delivery_id_header="X-Request-Id"
)


def github(delivery_id: str, *, event: str = "ping") -> ParsedDelivery:
    headers = {
        "X-Hub-Signature-256": github_signature(SECRET, BODY),
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery_id,
    }
    return receive("github", headers=headers, body=BODY, secret=SECRET)


def generic(webhook_id: str, provider: str = "generic_webhook") -> ParsedDelivery:
    verified = verify_request(
        config=WebhookConfig(mode="manual", signature_scheme="none"),
        provider=provider,
        webhook_id=webhook_id,
        webhook_type="plain",
        headers={},
        body=BODY,
        secret=None,
        clock=lambda: NOW,
    )
    return parse_delivery(verified)


def test_a_provider_delivery_id_is_the_event_id_as_sent() -> None:
    """DESIGN §4: the provider's delivery id as event_id, so its retries dedupe."""
    delivery = github("abc-123")
    assert delivery.event_id == delivery.delivery_id == "abc-123"


@pytest.mark.parametrize("delivery_id", ["has space", "x" * (MAX_EVENT_ID_LENGTH + 1), "é"])
def test_a_delivery_id_that_does_not_fit_the_contract_is_hashed(delivery_id: str) -> None:
    delivery = github(delivery_id)
    assert delivery.event_id.startswith("sha256:")
    assert len(delivery.event_id) <= MAX_EVENT_ID_LENGTH
    assert github(delivery_id).event_id == delivery.event_id
    assert delivery.delivery_id == delivery_id


def test_an_empty_delivery_id_counts_as_none() -> None:
    assert github("").event_id.startswith("sha256:")


def test_the_content_id_depends_on_provider_and_webhook() -> None:
    """Without a provider id the id hashes provider, webhook id and body, so the same body
    sent to two webhooks is two events."""
    ids = {generic("wh-1").event_id, generic("wh-2").event_id, generic("wh-1", "compass").event_id}
    assert len(ids) == 3
    assert generic("wh-1").event_id == generic("wh-1").event_id


def test_a_declared_delivery_id_header_supplies_the_id_and_is_kept() -> None:
    headers = {"X-Request-Id": "req-9", "Authorization": "Bearer x", "Cookie": "c=1"}
    delivery = receive("custom", config=UNSIGNED_WITH_ID, headers=headers, body=BODY, secret=None)
    assert delivery.event_id == "req-9"
    assert delivery.headers == {"x-request-id": "req-9"}


def test_a_declared_delivery_id_header_that_authenticates_is_never_kept() -> None:
    config = WebhookConfig(
        mode="manual", signature_scheme="none", delivery_id_header="Authorization"
    )
    headers = {"Authorization": "x"}
    delivery = receive("custom", config=config, headers=headers, body=BODY, secret=None)
    assert delivery.headers == {}


def test_the_signature_header_is_never_kept_even_when_declared_as_delivery_id() -> None:
    config = WebhookConfig(
        mode="manual",
        signature_scheme="hmac_sha256",
        signature_header="X-Sig",
        delivery_id_header="X-Sig",
    )
    headers = {"X-Sig": hex_hmac(SECRET.encode(), BODY)}
    delivery = receive("custom", config=config, headers=headers, body=BODY, secret=SECRET)
    assert "x-sig" not in delivery.headers


def test_an_event_type_over_the_contract_bound_is_a_bad_payload() -> None:
    with pytest.raises(InvalidWebhookPayload):
        github("abc", event="e" * 257)
