"""A malformed or oversized record never stops a consumer (DESIGN §4, the bus port's
at-least-once redelivery makes a handler that raises on a record retry it forever).

Every consumer of every service gets the same poison first, then one good record: the good
record takes effect and the bus drains, so each poison record was committed, not retried.

- dispatcher, `webhook-events`: each poison record is dead-lettered; a letter too large for
  the dead-letter topic goes out without the original value (the broker's size limits are
  modelled by `SizeLimitedBus`);
- dispatcher, `execution-results`; credentials, `credentials-commands` and
  `trigger-commands`: logged and skipped;
- the webhook views of ingress and the dispatcher (`webhooks`): skipped, the table keeps
  serving;
- credentials' ping wait and oauth's confirmation wait (expectations on `webhook-events` and
  `credentials-events`): poison never matches and never breaks the wait.
"""

import json
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Final

import httpx
import pytest
from asgi_lifespan import LifespanManager

from integrations.bus import Header, InMemoryBus, PublishRejected, Record
from integrations.contracts import (
    CredentialsCreated,
    DeadLetter,
    ExecutionSource,
    GraphExecutionRejected,
    GraphExecutionRequested,
    Message,
    StoreOAuthCredentials,
    WebhookEventReceived,
    WebhookState,
    decode,
    topics,
    transport_associated_data,
)
from integrations.contracts.cloudevents import CE_TYPE
from integrations.credentials.webhook_ping import PING_EVENT, is_ping_of
from integrations.crypto import Cipher, Purpose
from integrations.oauth.adapters.credentials_writer import BusCredentialsWriter
from tests.unit.dispatcher.kit import event, node, webhook
from tests.unit.security.apps import ServiceApp, service_app

pytestmark = pytest.mark.unit

SOURCE: Final = "/integrations/tests"
USER: Final = "poisoned-user"
# Scaled-down broker limits; the dead-letter topic's is below 4/3 of the events' (base64),
# so the letter of a record near the events' limit is itself too large.
EVENTS_LIMIT: Final = 64 * 1024
DEAD_LETTER_LIMIT: Final = 80 * 1024
NEAR_THE_LIMIT: Final = b"\xfe" * (EVENTS_LIMIT - 1024)


def poison(
    ce_type: str, key: str | None
) -> dict[str, tuple[str | None, bytes | None, list[Header]]]:
    """(key, value, headers) of records no handler can use, by what is wrong with them."""
    typed: list[Header] = [(CE_TYPE, ce_type.encode())]
    return {
        "garbage": (key, b"\x00\xff not json at all", typed),
        "empty": (key, b"", typed),
        "a null value": (key, None, typed),
        "JSON of the wrong shape": (key, b'{"event_id": 1, "payload": []}', typed),
        "JSON nested too deep": (key, b"[" * 50_000, typed),
        "a lone surrogate": (key, b'{"x": "\\ud800"}', typed),
        "no headers": (key, b"{}", []),
        "an unknown type": (key, b"{}", [(CE_TYPE, b"integrations.nothing.v1")]),
        "a header that is not UTF-8": (key, b"{}", [(CE_TYPE, b"\xff\xfe")]),
        "no key": (None, b"\x00", typed),
        "near the size limit": (key, NEAR_THE_LIMIT, typed),
        "another topic's message": (key, b"{}", [(CE_TYPE, CredentialsCreated.ce_type.encode())]),
    }


class SizeLimitedBus(InMemoryBus):
    """Refuses records over a topic's limit, as the broker does (`PublishRejected`)."""

    LIMITS: Final = {
        topics.WEBHOOK_EVENTS: EVENTS_LIMIT,
        topics.WEBHOOK_EVENTS_DLQ: DEAD_LETTER_LIMIT,
    }

    async def _send(
        self, topic: str, key: str | None, value: bytes | None, headers: Sequence[Header]
    ) -> None:
        # Every publish, sealed or raw, ends here, as every record reaches the broker.
        if value is not None and len(value) > self.LIMITS.get(topic, len(value)):
            raise PublishRejected(f"{len(value)} bytes is over the limit of {topic}")
        await super()._send(topic, key, value, headers)


async def publish_poison(bus: InMemoryBus, topic: str, ce_type: str, key: str | None) -> int:
    records = poison(ce_type, key)
    for record_key, value, headers in records.values():
        await bus.publish_raw(topic, record_key, value, headers)
    return len(records)


async def publish(bus: InMemoryBus, message: Message, *, key: str | None = None) -> None:
    await bus.publish(message.topic, message, source=SOURCE, key=key)


def on(bus: InMemoryBus, topic: str) -> list[Record]:
    return sorted(
        (record for partition in bus.log_of(topic) for record in partition),
        key=lambda record: record.timestamp_ms,
    )


@asynccontextmanager
async def running(name: str, bus: InMemoryBus | None = None) -> AsyncIterator[ServiceApp]:
    app = service_app(name, bus=bus or InMemoryBus(redelivery_delay_s=0.05))
    async with LifespanManager(app.app):
        yield app


async def test_the_dispatcher_dead_letters_every_poison_event_and_dispatches_the_next() -> None:
    """DESIGN §4 Dispatch: invalid records go to the DLQ at once; the partition goes on."""
    bus = SizeLimitedBus(redelivery_delay_s=0.05)
    async with running("dispatcher", bus):
        await publish(bus, webhook(user_id=USER, nodes=[node("n-1")]))
        poisoned = await publish_poison(
            bus, topics.WEBHOOK_EVENTS, WebhookEventReceived.ce_type, webhook().webhook_id
        )
        await publish(bus, event("after-the-poison", user_id=USER))
        await bus.drain()
    requests = [decode(r.headers, r.value) for r in on(bus, topics.GRAPH_EXECUTION_REQUESTS)]
    assert [r.source.event_id for r in requests if isinstance(r, GraphExecutionRequested)] == [
        "after-the-poison"
    ]
    letters = [decode(r.headers, r.value) for r in on(bus, topics.WEBHOOK_EVENTS_DLQ)]
    assert len(letters) == poisoned
    assert all(isinstance(letter, DeadLetter) for letter in letters)
    [too_large] = [
        letter
        for letter in letters
        if isinstance(letter, DeadLetter) and "original value dropped" in letter.error
    ]
    assert too_large.original_value_base64 is None


async def test_the_dispatcher_skips_poison_execution_results_and_handles_the_next() -> None:
    async with running("dispatcher") as app:
        await publish_poison(
            app.bus, topics.GRAPH_EXECUTION_RESULTS, GraphExecutionRejected.ce_type, USER
        )
        await publish(app.bus, _rejection())
        await app.bus.drain()
        [command] = on(app.bus, topics.TRIGGER_COMMANDS)
    assert decode(command.headers, command.value).model_dump(include={"user_id"}) == {
        "user_id": USER
    }


async def test_the_webhook_views_skip_poison_and_keep_serving() -> None:
    """Ingress answers a delivery to a webhook it learnt from the topic after the poison;
    the dispatcher's view, fed the same, dispatches to it."""
    async with running("ingress") as ingress:
        await publish_poison(ingress.bus, topics.WEBHOOKS, WebhookState.ce_type, "wh-manual")
        await publish(ingress.bus, _manual_webhook(ingress, "wh-manual"))
        await ingress.bus.drain()
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=ingress.app), base_url="http://test"
        ) as client:
            delivered = await client.post(
                "/api/integrations/generic_webhook/webhooks/wh-manual/ingress", json={"a": 1}
            )
    assert delivered.status_code == 200, delivered.text

    async with running("dispatcher") as dispatcher:
        await publish_poison(dispatcher.bus, topics.WEBHOOKS, WebhookState.ce_type, "wh-1")
        await publish(dispatcher.bus, webhook(user_id=USER, nodes=[node("n-1")]))
        await publish(dispatcher.bus, event("after-the-poison", user_id=USER))
        await dispatcher.bus.drain()
        assert len(on(dispatcher.bus, topics.GRAPH_EXECUTION_REQUESTS)) == 1


async def test_credentials_skips_poison_commands_and_stores_the_next() -> None:
    async with running("credentials") as app:
        await publish_poison(
            app.bus, topics.CREDENTIALS_COMMANDS, StoreOAuthCredentials.ce_type, USER
        )
        for unusable in _unusable_store_commands(app):
            await publish(app.bus, unusable)
        await publish(app.bus, _store_command(app, "cred-after-the-poison"))
        await app.bus.drain()
        events = [decode(r.headers, r.value) for r in on(app.bus, topics.CREDENTIALS_EVENTS)]
    assert [e.credentials_id for e in events if isinstance(e, CredentialsCreated)] == [
        "cred-after-the-poison"
    ]


async def test_credentials_skips_poison_trigger_commands_and_applies_the_next() -> None:
    async with running("credentials") as app:
        await publish_poison(app.bus, topics.TRIGGER_COMMANDS, _ACTIVATE_CE_TYPE, USER)
        for unusable in _unusable_trigger_commands():
            await app.bus.publish_raw(topics.TRIGGER_COMMANDS, USER, *unusable)
        await app.bus.publish_raw(topics.TRIGGER_COMMANDS, USER, *_activation("generic_webhook"))
        await app.bus.drain()
        states = [r for r in on(app.bus, topics.WEBHOOKS) if r.value is not None]
    [state] = [decode(r.headers, r.value) for r in states]
    assert isinstance(state, WebhookState)
    assert state.provider == "generic_webhook"


async def test_the_ping_wait_ignores_poison_on_webhook_events() -> None:
    """SPEC RT-8: credentials waits for the ping on `webhook-events`, next to anything."""
    bus = InMemoryBus()
    await bus.start()
    try:
        async with bus.expect(topics.WEBHOOK_EVENTS, is_ping_of("wh-1")) as expectation:
            await publish_poison(bus, topics.WEBHOOK_EVENTS, WebhookEventReceived.ce_type, "wh-1")
            await publish(bus, event("ping-1", event_type=PING_EVENT), key="wh-1")
            found = await expectation.wait(2.0)
    finally:
        await bus.stop()
    assert decode(found.headers, found.value).model_dump(include={"event_id"}) == {
        "event_id": "ping-1"
    }


async def test_the_oauth_confirmation_wait_ignores_poison_on_credentials_events() -> None:
    """DESIGN §4 OAuth connect: the callback's wait for `CredentialsCreated`."""
    bus = InMemoryBus()
    command = StoreOAuthCredentials.model_validate(_store_fields("cred-1", "v1:k:bm9uY2U:eA"))

    async def credentials_service(record: Record) -> None:
        await publish_poison(bus, topics.CREDENTIALS_EVENTS, CredentialsCreated.ce_type, USER)
        await publish(bus, _created(command.credentials_id))

    bus.subscribe(topics.CREDENTIALS_COMMANDS, credentials_service, group="credentials")
    await bus.start()
    try:
        confirmed = await BusCredentialsWriter(bus, timeout_s=2.0).store(command)
    finally:
        await bus.stop()
    assert confirmed.credentials_id == "cred-1"


_ACTIVATE_CE_TYPE: Final = "integrations.node-trigger.activate.v1"


def _activation(provider: str, **changes: Any) -> tuple[bytes, list[Header]]:
    fields = {
        "user_id": USER,
        "provider": provider,
        "webhook_type": "plain",
        "resource": "",
        "events": ["plain"],
        "manual": True,
        "graph_id": "graph-1",
        "graph_version": 1,
        "node_id": "node-1",
    } | changes
    return json.dumps(fields).encode(), [(CE_TYPE, _ACTIVATE_CE_TYPE.encode())]


def _unusable_trigger_commands() -> list[tuple[bytes, list[Header]]]:
    """Valid messages that cannot be carried out."""
    return [
        _activation("no-such-provider"),
        _activation("github", manual=False, credentials_id="no-such-credentials"),
        _activation("openai"),  # a provider without webhooks
    ]


def _store_fields(credentials_id: str, ciphertext: str, **changes: Any) -> dict[str, Any]:
    return {
        "user_id": USER,
        "credentials_id": credentials_id,
        "provider": "github",
        "title": "GitHub",
        "scopes": ["repo"],
        "access_token_ciphertext": ciphertext,
    } | changes


def _transport(app: ServiceApp) -> Cipher:
    return Cipher.from_key_ring(app.secrets.key_ring, Purpose.TRANSPORT)


def _store_command(app: ServiceApp, credentials_id: str, **changes: Any) -> StoreOAuthCredentials:
    fields = _store_fields(credentials_id, "", **changes)
    sealed = _transport(app).encrypt_text(
        "access-token",
        associated_data=transport_associated_data(
            fields["user_id"], credentials_id, "access_token_ciphertext"
        ),
    )
    return StoreOAuthCredentials.model_validate(fields | {"access_token_ciphertext": sealed})


def _unusable_store_commands(app: ServiceApp) -> list[StoreOAuthCredentials]:
    sealed_for_another = _store_command(app, "cred-a").access_token_ciphertext
    return [
        StoreOAuthCredentials.model_validate(_store_fields("cred-b", sealed_for_another)),
        _store_command(app, "cred-c", provider="no-such-provider"),
        StoreOAuthCredentials.model_validate(_store_fields("cred-d", "v1:k:bm9uY2U:eA")),
    ]


def _created(credentials_id: str) -> CredentialsCreated:
    return CredentialsCreated.model_validate(
        {
            "user_id": USER,
            "credentials_id": credentials_id,
            "provider": "github",
            "credentials_type": "oauth2",
            "title": "GitHub",
        }
    )


def _rejection() -> GraphExecutionRejected:
    source = ExecutionSource(
        webhook_id="wh-1",
        provider="github",
        event_id="ev-1",
        event_type="push",
        node_id="node-9",
    )
    return GraphExecutionRejected(
        request_id="r-1",
        user_id=USER,
        graph_id="graph-2",
        preset_id=None,
        reason="graph_not_in_library",
        source=source,
    )


def _manual_webhook(app: ServiceApp, webhook_id: str) -> WebhookState:
    cipher = Cipher.from_key_ring(app.secrets.key_ring, Purpose.WEBHOOK_SECRETS)
    url = f"http://platform.test/api/integrations/generic_webhook/webhooks/{webhook_id}/ingress"
    return WebhookState(
        webhook_id=webhook_id,
        user_id=USER,
        provider="generic_webhook",
        webhook_type="plain",
        resource="",
        events=["plain"],
        secret_ciphertext=cipher.encrypt_text("s", associated_data=webhook_id.encode()),
        provider_webhook_id="",
        manual=True,
        ingress_url=url,
        version=1,
        updated_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
