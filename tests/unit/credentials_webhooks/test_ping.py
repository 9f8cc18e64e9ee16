"""Pinging a webhook (SPEC RT-8, WH-6)."""

import asyncio
import time

import pytest

from integrations.bus import InMemoryBus
from integrations.contracts import topics
from integrations.credentials.domain.webhooks import WebhookNotFound
from integrations.credentials.webhook_context import WebhookContext, WebhookPolicy
from integrations.credentials.webhook_handlers import activate_trigger
from integrations.credentials.webhook_ping import PingTimedOut, is_ping_of, ping_webhook
from integrations.storage import Database
from tests.unit.credentials_webhooks.kit import (
    OTHER_USER,
    USER,
    FakeCredentials,
    FakeGitHub,
    activate_node,
    make_context,
    ping_event,
    records,
)

pytestmark = pytest.mark.unit

SOURCE = "/tests/ingress"


def deliver_pings(github: FakeGitHub, bus: InMemoryBus, webhook_id: str) -> None:
    """GitHub answers the ping request and sends the delivery; ingress publishes it. Here
    the delivery is published before GitHub's answer returns, the tightest race."""

    async def on_ping(_: str) -> None:
        await bus.publish(topics.WEBHOOK_EVENTS, ping_event(webhook_id), source=SOURCE)

    github.on_ping = on_ping


async def test_a_ping_that_arrives_answers_true(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC RT-8, WH-6: the provider pings, the waiter (entered first) sees the delivery."""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    deliver_pings(github, bus, webhook.id)
    assert await ping_webhook(USER, webhook.id, ctx) is True
    assert github.calls[-1] == (
        "POST",
        f"/repos/octo/repo/hooks/{webhook.provider_webhook_id}/pings",
    )


async def test_no_ping_within_the_timeout_times_out(
    database: Database, bus: InMemoryBus, github: FakeGitHub, credentials: FakeCredentials
) -> None:
    """SPEC RT-8: no ping event in time → 504 (PingTimedOut)."""
    ctx = make_context(database, bus, github, credentials, policy=WebhookPolicy(ping_timeout_s=0.2))
    await ctx.repository.ensure_indexes()  # type: ignore[attr-defined]
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    started = time.monotonic()
    with pytest.raises(PingTimedOut):
        await ping_webhook(USER, webhook.id, ctx)
    assert 0.2 <= time.monotonic() - started < 2


async def test_other_events_and_other_webhooks_pings_do_not_count(
    database: Database, bus: InMemoryBus, github: FakeGitHub, credentials: FakeCredentials
) -> None:
    ctx = make_context(database, bus, github, credentials, policy=WebhookPolicy(ping_timeout_s=0.3))
    webhook = (await activate_trigger(activate_node(), ctx)).webhook

    async def on_ping(_: str) -> None:
        await bus.publish(
            topics.WEBHOOK_EVENTS, ping_event(webhook.id, event_type="push"), source=SOURCE
        )
        await bus.publish(topics.WEBHOOK_EVENTS, ping_event("another"), source=SOURCE)

    github.on_ping = on_ping
    with pytest.raises(PingTimedOut):
        await ping_webhook(USER, webhook.id, ctx)


async def test_a_ping_from_before_the_request_does_not_count(
    database: Database, bus: InMemoryBus, github: FakeGitHub, credentials: FakeCredentials
) -> None:
    ctx = make_context(database, bus, github, credentials, policy=WebhookPolicy(ping_timeout_s=0.2))
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    await bus.publish(topics.WEBHOOK_EVENTS, ping_event(webhook.id), source=SOURCE)
    with pytest.raises(PingTimedOut):
        await ping_webhook(USER, webhook.id, ctx)


async def test_a_provider_that_cannot_ping_answers_false(
    ctx: WebhookContext, github: FakeGitHub
) -> None:
    """SPEC RT-8: provider cannot ping → false (manual webhooks have nothing to ping)."""
    command = activate_node(
        provider="generic_webhook",
        webhook_type="plain",
        resource="",
        manual=True,
        credentials_id=None,
    )
    webhook = (await activate_trigger(command, ctx)).webhook
    assert await ping_webhook(USER, webhook.id, ctx) is False
    assert github.requests == []


async def test_another_users_webhook_is_not_found(ctx: WebhookContext) -> None:
    """DESIGN §6: the same answer as a missing one."""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    with pytest.raises(WebhookNotFound):
        await ping_webhook(OTHER_USER, webhook.id, ctx)
    with pytest.raises(WebhookNotFound):
        await ping_webhook(USER, "missing", ctx)


async def test_waiting_pings_do_not_block_each_other(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    one = (await activate_trigger(activate_node("n1", events=["push"]), ctx)).webhook
    two = (await activate_trigger(activate_node("n2", events=["issues"]), ctx)).webhook
    by_hook = {one.provider_webhook_id: one.id, two.provider_webhook_id: two.id}

    async def on_ping(hook: str) -> None:
        await asyncio.sleep(0.05)
        await bus.publish(topics.WEBHOOK_EVENTS, ping_event(by_hook[hook]), source=SOURCE)

    github.on_ping = on_ping
    results = await asyncio.gather(ping_webhook(USER, one.id, ctx), ping_webhook(USER, two.id, ctx))
    assert list(results) == [True, True]
    assert len(records(bus, topics.WEBHOOK_EVENTS)) == 2


def test_the_ping_predicate_ignores_unreadable_records() -> None:
    from integrations.bus import Record

    matches = is_ping_of("wh-1")
    assert not matches(Record(topics.WEBHOOK_EVENTS, 0, 0, "wh-1", b"not json", (), 0))
    assert not matches(Record(topics.WEBHOOK_EVENTS, 0, 0, "wh-1", None, (), 0))
