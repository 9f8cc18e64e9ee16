"""The webhook repository's contract, run against every adapter, and the concurrency it
exists for: N simultaneous activations make exactly one auto webhook (SPEC WH-2)."""

import asyncio
import dataclasses

import pytest
from pydantic import SecretStr

from integrations.bus import InMemoryBus
from integrations.contracts import (
    ActivateNodeTrigger,
    ActivatePresetTrigger,
    DeactivateNodeTrigger,
    TriggerActivated,
    WebhookPruned,
    topics,
)
from integrations.credentials.adapters.webhook_repository import (
    COLLECTION,
    DocumentWebhookRepository,
)
from integrations.credentials.domain.webhook_ports import DuplicateWebhook
from integrations.credentials.domain.webhooks import (
    Webhook,
    WebhookNotFound,
    activation_request,
    new_webhook,
)
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_handlers import activate_trigger, deactivate_node_trigger
from integrations.credentials.webhook_ping import ping_webhook
from integrations.crypto import CryptoError
from integrations.providers import WebhookRegistration
from integrations.storage import Database
from tests.unit.credentials_webhooks.kit import (
    CREDS,
    OTHER_USER,
    STATE_CIPHER,
    USER,
    FakeGitHub,
    activate_node,
    activate_preset,
    events_of,
    latest_states,
    ping_event,
)

pytestmark = pytest.mark.contract

SECRET = SecretStr("a-webhook-secret-" + "z" * 40)
CONCURRENCY = 8


def linked_webhook(
    webhook_id: str = "wh-1", *, user_id: str = USER, events: tuple[str, ...] = ("push",)
) -> Webhook:
    node = activation_request(activate_node(user_id=user_id, events=list(events)))
    preset = activation_request(activate_preset(user_id=user_id, events=list(events)))
    pending = new_webhook(node, webhook_id=webhook_id, secret=SECRET, now=1_700_000_000.5)
    registration = WebhookRegistration(
        provider_webhook_id="77", config={"url": "https://x", "content.type": {"$a": 1}}
    )
    return (
        pending.registered_with(registration)
        .with_trigger(node.trigger)
        .with_trigger(preset.trigger)
    )


async def test_a_webhook_round_trips_with_its_links_and_secret(
    repository: DocumentWebhookRepository,
) -> None:
    """SPEC WH-1: every field, including user-made keys the store itself would refuse."""
    webhook = linked_webhook()
    await repository.add(webhook)
    assert await repository.get(webhook.id) == webhook
    assert await repository.by_dedupe_key(webhook.dedupe_key) == webhook
    assert await repository.get_for_user(USER, webhook.id) == webhook
    assert await repository.get_for_user(OTHER_USER, webhook.id) is None
    assert await repository.get("missing") is None
    assert await repository.by_dedupe_key("missing") is None


async def test_the_secret_is_encrypted_at_rest_under_the_credentials_key(
    repository: DocumentWebhookRepository, database: Database
) -> None:
    webhook = linked_webhook()
    await repository.add(webhook)
    raw = await database.collection(COLLECTION).get(webhook.id)
    assert raw is not None
    assert SECRET.get_secret_value() not in str(raw)
    with pytest.raises(CryptoError):  # not the key ingress holds
        STATE_CIPHER.decrypt_text(raw["secrets"]["secret"])


async def test_a_taken_dedupe_key_is_refused(repository: DocumentWebhookRepository) -> None:
    """SPEC WH-2: one webhook per dedupe key."""
    await repository.add(linked_webhook("wh-1"))
    with pytest.raises(DuplicateWebhook):
        await repository.add(linked_webhook("wh-2"))
    with pytest.raises(DuplicateWebhook):
        await repository.add(linked_webhook("wh-1", events=("other",)))


async def test_writes_are_versioned(repository: DocumentWebhookRepository) -> None:
    webhook = linked_webhook()
    await repository.add(webhook)
    saved = await repository.save(webhook.without_triggers())
    assert saved is not None
    assert saved.version == webhook.version + 1
    assert not saved.has_triggers
    assert await repository.save(webhook) is None  # read before the save: stale
    assert not await repository.remove(webhook)
    assert await repository.remove(saved)
    assert await repository.get(webhook.id) is None
    assert await repository.save(saved) is None  # gone


async def test_listings_are_scoped_by_user_and_credentials(
    repository: DocumentWebhookRepository,
) -> None:
    mine = linked_webhook("wh-1")
    other_creds = dataclasses.replace(
        linked_webhook("wh-2", events=("b",)), credentials_id="cred-2", created_at=1.0
    )
    theirs = linked_webhook("wh-3", user_id=OTHER_USER)
    for webhook in (mine, other_creds, theirs):
        await repository.add(webhook)
    assert [w.id for w in await repository.for_user(USER)] == ["wh-2", "wh-1"]  # oldest first
    assert [w.id for w in await repository.for_credentials(USER, CREDS)] == ["wh-1"]
    assert [w.id for w in await repository.for_credentials(OTHER_USER, CREDS)] == ["wh-3"]
    assert sorted([w.id async for w in repository.scan()]) == ["wh-1", "wh-2", "wh-3"]


async def test_of_concurrent_inserts_of_one_webhook_exactly_one_wins(
    repository: DocumentWebhookRepository,
) -> None:
    """SPEC WH-2: the unique index decides, on every adapter."""
    candidates = [linked_webhook(f"wh-{i}") for i in range(CONCURRENCY)]
    results = await asyncio.gather(*(repository.add(c) for c in candidates), return_exceptions=True)
    assert sum(r is None for r in results) == 1
    assert all(isinstance(r, DuplicateWebhook) for r in results if r is not None)
    assert len([w async for w in repository.scan()]) == 1


async def test_concurrent_activations_make_exactly_one_auto_webhook(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC WH-2: one registration at the provider, every trigger linked to it."""
    commands: list[ActivateNodeTrigger | ActivatePresetTrigger] = [
        activate_node(f"n{i}") for i in range(CONCURRENCY)
    ]
    commands += [activate_preset(f"p{i}") for i in range(CONCURRENCY // 2)]
    activations = await asyncio.gather(*(activate_trigger(c, ctx) for c in commands))
    (webhook_id,) = {a.webhook.id for a in activations}
    assert sum(a.new_webhook for a in activations) == 1
    assert len(github.created) == 1
    assert len(github.hooks) == 1
    stored = [w async for w in ctx.repository.scan()]
    assert [w.id for w in stored] == [webhook_id]
    assert {t.node_id for t in stored[0].node_triggers} == {f"n{i}" for i in range(CONCURRENCY)}
    assert len(stored[0].preset_triggers) == CONCURRENCY // 2
    state = latest_states(bus)[webhook_id]
    assert state is not None
    assert len(state.node_triggers) == CONCURRENCY
    assert len(events_of(bus, TriggerActivated)) == len(commands)


async def test_concurrent_manual_activations_share_one_webhook(
    ctx: WebhookContext, github: FakeGitHub
) -> None:
    """SPEC WH-3"""
    commands = [
        activate_node(
            f"n{i}",
            provider="generic_webhook",
            webhook_type="plain",
            resource="",
            manual=True,
            credentials_id=None,
            events=[f"e{i}"],
        )
        for i in range(CONCURRENCY)
    ]
    activations = await asyncio.gather(*(activate_trigger(c, ctx) for c in commands))
    assert len({a.webhook.id for a in activations}) == 1
    (stored,) = [w async for w in ctx.repository.scan()]
    assert len(stored.node_triggers) == CONCURRENCY
    assert github.requests == []


async def test_concurrent_deactivations_prune_once(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC WH-4: no lost unlink, one deregistration, one tombstone."""
    for i in range(CONCURRENCY):
        await activate_trigger(activate_node(f"n{i}"), ctx)
    commands = [
        DeactivateNodeTrigger(user_id=USER, graph_id="graph-1", graph_version=1, node_id=f"n{i}")
        for i in range(CONCURRENCY)
    ]
    outcomes = await asyncio.gather(*(deactivate_node_trigger(c, ctx) for c in commands))
    assert sum(o.pruned for (o,) in outcomes) == 1
    assert [w async for w in ctx.repository.scan()] == []
    assert len(events_of(bus, WebhookPruned)) == 1
    assert sum(method == "DELETE" for method, _ in github.calls) == 1
    assert github.hooks == {}


async def test_activation_racing_a_prune_never_links_to_a_dead_webhook(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """Whichever wins, the node ends linked to a webhook registered at GitHub."""
    await activate_trigger(activate_node("n1"), ctx)
    deactivate = DeactivateNodeTrigger(
        user_id=USER, graph_id="graph-1", graph_version=1, node_id="n1"
    )
    _, activation = await asyncio.gather(
        deactivate_node_trigger(deactivate, ctx), activate_trigger(activate_node("n2"), ctx)
    )
    stored = await ctx.repository.get(activation.webhook.id)
    assert stored is not None
    assert stored.is_active
    assert stored.trigger(("node", "n2")) is not None
    assert stored.provider_webhook_id in github.hooks


async def test_a_ping_reaches_the_provider_and_waits_for_its_delivery(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC WH-6, RT-8: with the webhook as stored by this adapter."""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook

    async def on_ping(_: str) -> None:
        await bus.publish(topics.WEBHOOK_EVENTS, ping_event(webhook.id), source="/tests")

    github.on_ping = on_ping
    assert await ping_webhook(USER, webhook.id, ctx) is True
    with pytest.raises(WebhookNotFound):
        await ping_webhook(OTHER_USER, webhook.id, ctx)
