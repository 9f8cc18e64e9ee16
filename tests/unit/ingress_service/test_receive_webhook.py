"""The handler with an in-memory bus and a fake lookup: lookup → verify → parse → publish."""

import json
from collections.abc import AsyncIterator

import pytest

from integrations.bus import BusUnavailable, InMemoryBus, Record
from integrations.contracts import WebhookEventReceived, decode, topics
from integrations.ingress.handlers import (
    Accepted,
    BodyTooLarge,
    Handshake,
    IncomingDelivery,
    SecretUnreadable,
    UnknownWebhook,
    WebhookLookupUnavailable,
    receive_webhook,
)
from integrations.providers import InvalidWebhookPayload, InvalidWebhookSignature
from tests.unit.ingress_service.fixtures import (
    NOW,
    PR_BODY,
    SECRET,
    FakeLookup,
    collaborators,
    github_headers,
    slack_headers,
    webhook,
)

pytestmark = pytest.mark.unit


@pytest.fixture
async def bus() -> AsyncIterator[InMemoryBus]:
    bus = InMemoryBus()
    await bus.start()
    yield bus
    await bus.stop()


def delivery(
    body: bytes = PR_BODY,
    headers: dict[str, str] | None = None,
    *,
    provider: str = "github",
    webhook_id: str = "wh-1",
) -> IncomingDelivery:
    async def read() -> bytes:
        return body

    return IncomingDelivery(
        provider=provider,
        webhook_id=webhook_id,
        headers=github_headers(body) if headers is None else headers,
        read_body=read,
    )


def published(bus: InMemoryBus) -> list[Record]:
    return [record for partition in bus.log_of(topics.WEBHOOK_EVENTS) for record in partition]


async def test_a_verified_delivery_is_published_once_keyed_by_webhook_id(bus: InMemoryBus) -> None:
    deps = collaborators(bus, FakeLookup(webhook()))

    result = await receive_webhook(delivery(), deps)

    [record] = published(bus)
    assert record.key == "wh-1"
    event = decode(record.headers, record.value)
    assert isinstance(event, WebhookEventReceived)
    assert result == Accepted(event.event_id)
    assert "d-1" in event.event_id  # the provider's delivery id, so its retries dedupe
    assert (event.provider, event.webhook_id, event.user_id) == ("github", "wh-1", "user-1")
    assert event.event_type == "pull_request.opened"
    assert event.payload == json.loads(PR_BODY)
    assert event.received_at.timestamp() == NOW
    assert event.headers["x-github-delivery"] == "d-1"
    assert "x-hub-signature-256" not in event.headers


async def test_an_unknown_webhook_is_refused_before_the_body_is_read(bus: InMemoryBus) -> None:
    async def must_not_read() -> bytes:
        raise AssertionError("body read for an unknown webhook")

    unknown = IncomingDelivery("github", "wh-missing", github_headers(PR_BODY), must_not_read)

    with pytest.raises(UnknownWebhook):
        await receive_webhook(unknown, collaborators(bus, FakeLookup(webhook())))
    assert published(bus) == []


async def test_another_providers_webhook_is_as_unknown_as_a_missing_one(bus: InMemoryBus) -> None:
    deps = collaborators(bus, FakeLookup(webhook(provider="stripe")))
    with pytest.raises(UnknownWebhook):
        await receive_webhook(delivery(), deps)


@pytest.mark.parametrize(
    ("provider", "webhook_id"), [("no-such-provider", "wh-1"), ("github", "has space")]
)
async def test_unknown_providers_and_malformed_ids_never_reach_the_lookup(
    bus: InMemoryBus, provider: str, webhook_id: str
) -> None:
    lookup = FakeLookup(webhook())
    with pytest.raises(UnknownWebhook):
        await receive_webhook(
            delivery(provider=provider, webhook_id=webhook_id), collaborators(bus, lookup)
        )
    assert lookup.asked == []


async def test_a_bad_signature_is_refused_and_nothing_is_published(bus: InMemoryBus) -> None:
    headers = github_headers(PR_BODY, secret="not-the-secret")
    with pytest.raises(InvalidWebhookSignature):
        await receive_webhook(delivery(headers=headers), collaborators(bus, FakeLookup(webhook())))
    assert published(bus) == []


async def test_a_body_changed_after_signing_is_refused(bus: InMemoryBus) -> None:
    headers = github_headers(PR_BODY)
    tampered = PR_BODY.replace(b"opened", b"closed")
    with pytest.raises(InvalidWebhookSignature):
        await receive_webhook(
            delivery(tampered, headers), collaborators(bus, FakeLookup(webhook()))
        )


async def test_malformed_json_is_refused_after_verification(bus: InMemoryBus) -> None:
    body = b'{"action": "opened",'
    with pytest.raises(InvalidWebhookPayload):
        await receive_webhook(delivery(body), collaborators(bus, FakeLookup(webhook())))
    assert published(bus) == []


async def test_a_secret_sealed_for_another_webhook_does_not_open(bus: InMemoryBus) -> None:
    moved = webhook(sealed_for="wh-other")
    with pytest.raises(SecretUnreadable) as raised:
        await receive_webhook(delivery(), collaborators(bus, FakeLookup(moved)))
    assert SECRET not in str(raised.value)


async def test_slack_url_verification_is_answered_and_not_published(bus: InMemoryBus) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "ch-123", "token": "t"}).encode()
    deps = collaborators(bus, FakeLookup(webhook(provider="slack")))

    result = await receive_webhook(delivery(body, slack_headers(body), provider="slack"), deps)

    assert result == Handshake("ch-123")
    assert published(bus) == []


async def test_an_unacknowledged_publish_raises_bus_unavailable(bus: InMemoryBus) -> None:
    deps = collaborators(bus, FakeLookup(webhook()))
    await bus.stop()

    with pytest.raises(BusUnavailable):
        await receive_webhook(delivery(), deps)


async def test_lookup_and_body_errors_pass_through(bus: InMemoryBus) -> None:
    lookup = FakeLookup(webhook())
    lookup.error = WebhookLookupUnavailable("credentials down")
    with pytest.raises(WebhookLookupUnavailable):
        await receive_webhook(delivery(), collaborators(bus, lookup))

    async def too_large() -> bytes:
        raise BodyTooLarge(10)

    oversized = IncomingDelivery("github", "wh-1", github_headers(PR_BODY), too_large)
    with pytest.raises(BodyTooLarge):
        await receive_webhook(oversized, collaborators(bus, FakeLookup(webhook())))
