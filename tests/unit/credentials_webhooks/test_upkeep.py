"""Webhooks and credentials deletion (SPEC RT-6), start-up republication, and recovery of
work a crashed worker left behind."""

import dataclasses

import pytest

from integrations.bus import InMemoryBus
from integrations.contracts import TriggerDeactivated, WebhookPruned
from integrations.credentials.domain.webhooks import activation_request, new_webhook
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_handlers import activate_trigger
from integrations.credentials.webhook_upkeep import (
    LinkedWebhooks,
    republish_webhooks,
    webhook_state,
    webhooks_of,
)
from tests.unit.credentials_webhooks.kit import (
    CREDS,
    OTHER_USER,
    USER,
    FakeCredentials,
    FakeGitHub,
    activate_node,
    activate_preset,
    api_key,
    events_of,
    latest_states,
)

pytestmark = pytest.mark.unit


async def test_webhooks_with_triggers_are_in_use(ctx: WebhookContext) -> None:
    """SPEC RT-6: the deletion needs confirmation while they trigger something."""
    usage = LinkedWebhooks(ctx)
    assert not await usage.in_use(USER, CREDS)
    await activate_trigger(activate_node(), ctx)
    assert await usage.in_use(USER, CREDS)
    assert not await usage.in_use(OTHER_USER, CREDS)
    assert not await usage.in_use(USER, "cred-other")


async def test_release_unlinks_deregisters_and_prunes(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub, credentials: FakeCredentials
) -> None:
    """SPEC RT-6: unlink those triggers, deregister and prune the webhooks."""
    credentials.add(credentials=api_key("cred-other"))
    one = (await activate_trigger(activate_node("n1", events=["push"]), ctx)).webhook
    two = (await activate_trigger(activate_preset(events=["issues"]), ctx)).webhook
    kept = (await activate_trigger(activate_node("n3", credentials_id="cred-other"), ctx)).webhook
    await LinkedWebhooks(ctx).release(USER, CREDS)
    assert {e.webhook_id for e in events_of(bus, WebhookPruned)} == {one.id, two.id}
    assert all(e.deregistered for e in events_of(bus, WebhookPruned))
    deactivated = events_of(bus, TriggerDeactivated)
    assert {(e.node_id, e.preset_id) for e in deactivated} == {("n1", None), (None, "preset-1")}
    assert {e.reason for e in deactivated} == {"credentials_deleted"}
    assert {e.command_id for e in deactivated} == {None}
    assert set(github.hooks) == {kept.provider_webhook_id}
    states = latest_states(bus)
    assert states[one.id] is None
    assert states[two.id] is None
    assert states[kept.id] is not None
    assert not await LinkedWebhooks(ctx).in_use(USER, CREDS)


async def test_release_also_prunes_webhooks_already_without_triggers(
    ctx: WebhookContext, github: FakeGitHub
) -> None:
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    stored = await ctx.repository.get(webhook.id)
    assert stored is not None
    emptied = await ctx.repository.save(stored.without_triggers())  # e.g. a prune that failed
    assert emptied is not None
    await LinkedWebhooks(ctx).release(USER, CREDS)
    assert await ctx.repository.get(webhook.id) is None
    assert github.hooks == {}


async def test_startup_republishes_every_active_webhook(
    ctx: WebhookContext, bus: InMemoryBus
) -> None:
    """A view rebuilt from an empty topic (the embedded bus after a restart) converges."""
    one = (await activate_trigger(activate_node("n1", events=["push"]), ctx)).webhook
    two = (await activate_trigger(activate_node("n2", events=["issues"]), ctx)).webhook
    fresh = InMemoryBus()
    await fresh.start()
    try:
        published = await republish_webhooks(dataclasses.replace(ctx, bus=fresh))
        states = latest_states(fresh)
    finally:
        await fresh.stop()
    assert published == 2
    assert set(states) == {one.id, two.id}
    before = latest_states(bus)
    for webhook_id, state in states.items():
        assert state is not None
        published_before = before[webhook_id]
        assert published_before is not None
        # The same state; only the ciphertext differs (a fresh nonce).
        unsealed = {"secret_ciphertext"}
        assert state.model_dump(exclude=unsealed) == published_before.model_dump(exclude=unsealed)


async def test_startup_finishes_abandoned_work(ctx: WebhookContext, bus: InMemoryBus) -> None:
    """A registration whose worker died is dropped; a pruning is completed."""
    request = activation_request(activate_node("n9", events=["release"]))
    pending = new_webhook(request, webhook_id="abandoned", secret=ctx.new_secret(), now=0.0)
    await ctx.repository.add(pending)
    pruning = (await activate_trigger(activate_node("n1"), ctx)).webhook
    stored = await ctx.repository.get(pruning.id)
    assert stored is not None
    marked = await ctx.repository.save(stored.without_triggers().with_status("pruning"))
    assert marked is not None
    stale = dataclasses.replace(ctx, clock=lambda: marked.updated_at + 3600)
    assert await republish_webhooks(stale) == 0
    assert [w async for w in ctx.repository.scan()] == []
    (pruned,) = events_of(bus, WebhookPruned)
    assert (pruned.webhook_id, pruned.deregistered) == (pruning.id, True)


async def test_a_stale_registration_is_taken_over_by_the_next_activation(
    ctx: WebhookContext, github: FakeGitHub
) -> None:
    request = activation_request(activate_node())
    pending = new_webhook(request, webhook_id="abandoned", secret=ctx.new_secret(), now=0.0)
    await ctx.repository.add(pending)
    activation = await activate_trigger(activate_node(), ctx)
    assert activation.new_webhook
    assert activation.webhook.id != "abandoned"
    assert len(github.created) == 1


async def test_a_fresh_registration_in_progress_is_waited_for_then_reported_busy(
    ctx: WebhookContext,
) -> None:
    from integrations.credentials.domain.webhooks import ActivationFailed
    from integrations.credentials.webhook_context import WebhookPolicy

    request = activation_request(activate_node())
    now = ctx.clock()
    pending = new_webhook(request, webhook_id="in-progress", secret=ctx.new_secret(), now=now)
    await ctx.repository.add(pending)
    impatient = dataclasses.replace(ctx, policy=WebhookPolicy(activation_wait_s=0.1, poll_s=0.01))
    with pytest.raises(ActivationFailed) as failure:
        await activate_trigger(activate_node(), impatient)
    assert failure.value.error_code == "busy"


async def test_the_read_through_answers_registered_webhooks_only(ctx: WebhookContext) -> None:
    """Ingress's read-through: 200 with the state, else 404 (also while pending)."""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    state = await webhook_state(webhook.id, ctx)
    assert state is not None
    assert state.webhook_id == webhook.id
    assert await webhook_state("missing", ctx) is None
    request = activation_request(activate_node(events=["other"]))
    pending = new_webhook(request, webhook_id="pending", secret=ctx.new_secret(), now=ctx.clock())
    await ctx.repository.add(pending)
    assert await webhook_state("pending", ctx) is None
    assert [s.webhook_id for s in await webhooks_of(USER, ctx)] == [webhook.id]
    assert await webhooks_of(OTHER_USER, ctx) == []
