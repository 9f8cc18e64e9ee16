"""Unlinking triggers and pruning webhooks (SPEC WH-4, RT-9, RT-10)."""

import pytest

from integrations.bus import InMemoryBus
from integrations.contracts import (
    DeactivateNodeTrigger,
    DeactivatePresetTrigger,
    PresetDeactivated,
    TriggerDeactivated,
    UnlinkGraphTriggers,
    WebhookPruned,
)
from integrations.credentials.webhook_changes import prune_if_dangling
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_handlers import (
    activate_trigger,
    deactivate_node_trigger,
    deactivate_preset_trigger,
    unlink_graph_triggers,
)
from tests.unit.credentials_webhooks.kit import (
    CREDS,
    OTHER_USER,
    USER,
    FakeCredentials,
    FakeGitHub,
    activate_node,
    activate_preset,
    events_of,
    latest_states,
)

pytestmark = pytest.mark.unit


def deactivate_node(
    node_id: str = "node-1", *, user_id: str = USER, **fields: str
) -> DeactivateNodeTrigger:
    return DeactivateNodeTrigger(
        user_id=user_id, graph_id="graph-1", graph_version=1, node_id=node_id, **fields
    )


async def test_removing_the_last_trigger_deregisters_deletes_and_tombstones(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC WH-4"""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    command = deactivate_node()
    (outcome,) = await deactivate_node_trigger(command, ctx)
    assert outcome.pruned
    assert outcome.webhook_id == webhook.id
    assert github.calls[-1] == ("DELETE", f"/repos/octo/repo/hooks/{webhook.provider_webhook_id}")
    assert await ctx.repository.get(webhook.id) is None
    assert latest_states(bus)[webhook.id] is None
    (deactivated,) = events_of(bus, TriggerDeactivated)
    assert (deactivated.node_id, deactivated.webhook_id) == ("node-1", webhook.id)
    assert deactivated.command_id == command.command_id
    (pruned,) = events_of(bus, WebhookPruned)
    assert (pruned.webhook_id, pruned.deregistered, pruned.provider) == (webhook.id, True, "github")


async def test_a_webhook_with_triggers_left_is_kept(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC WH-4"""
    webhook = (await activate_trigger(activate_node("n1"), ctx)).webhook
    await activate_trigger(activate_preset(), ctx)
    (outcome,) = await deactivate_node_trigger(deactivate_node("n1"), ctx)
    assert not outcome.pruned
    assert not await prune_if_dangling(webhook, ctx)
    state = latest_states(bus)[webhook.id]
    assert state is not None
    assert state.node_triggers == []
    assert len(state.preset_triggers) == 1
    assert events_of(bus, WebhookPruned) == []
    assert all(method != "DELETE" for method, _ in github.calls)


async def test_a_hook_already_gone_at_github_is_pruned(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC WH-4: GitHub's 404 counts as deregistered."""
    await activate_trigger(activate_node(), ctx)
    github.hooks.clear()
    (outcome,) = await deactivate_node_trigger(deactivate_node(), ctx)
    assert outcome.pruned
    (pruned,) = events_of(bus, WebhookPruned)
    assert pruned.deregistered is True


async def test_without_credentials_the_webhook_goes_without_deregistration(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub, credentials: FakeCredentials
) -> None:
    """SPEC WH-4: deregister only when the credentials exist."""
    await activate_trigger(activate_node(), ctx)
    credentials.stored.clear()
    (outcome,) = await deactivate_node_trigger(deactivate_node(), ctx)
    assert outcome.pruned
    (pruned,) = events_of(bus, WebhookPruned)
    assert pruned.deregistered is None
    assert all(method != "DELETE" for method, _ in github.calls)


async def test_a_provider_failure_does_not_keep_the_webhook(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """A provider outage never blocks a user: deleted, reported as not deregistered."""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    github.fail_with = 500
    await deactivate_node_trigger(deactivate_node(), ctx)
    assert await ctx.repository.get(webhook.id) is None
    (pruned,) = events_of(bus, WebhookPruned)
    assert pruned.deregistered is False


async def test_a_manual_webhook_is_pruned_without_any_provider_call(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    command = activate_node(
        provider="generic_webhook",
        webhook_type="plain",
        resource="",
        manual=True,
        credentials_id=None,
    )
    webhook = (await activate_trigger(command, ctx)).webhook
    await deactivate_node_trigger(deactivate_node(), ctx)
    assert github.requests == []
    (pruned,) = events_of(bus, WebhookPruned)
    assert (pruned.webhook_id, pruned.deregistered) == (webhook.id, None)


async def test_deactivating_what_is_not_linked_changes_nothing(
    ctx: WebhookContext, bus: InMemoryBus
) -> None:
    await activate_trigger(activate_node("n1"), ctx)
    assert await deactivate_node_trigger(deactivate_node("unknown"), ctx) == []
    assert await deactivate_node_trigger(deactivate_node("n1", user_id=OTHER_USER), ctx) == []
    assert events_of(bus, TriggerDeactivated) == []


async def test_a_wrong_webhook_hint_still_finds_the_node(ctx: WebhookContext) -> None:
    await activate_trigger(activate_node("n1"), ctx)
    (outcome,) = await deactivate_node_trigger(deactivate_node("n1", webhook_id="nope"), ctx)
    assert outcome.pruned


async def test_deactivating_a_preset_keeps_it_linked_but_inactive(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC RT-10: graph not accessible → the preset is deactivated (PresetDeactivated)."""
    webhook = (await activate_trigger(activate_preset(), ctx)).webhook
    command = DeactivatePresetTrigger(
        user_id=USER, preset_id="preset-1", reason="graph_not_accessible"
    )
    await deactivate_preset_trigger(command, ctx)
    state = latest_states(bus)[webhook.id]
    assert state is not None
    (preset,) = state.preset_triggers
    assert not preset.is_active
    assert preset.inputs == {"repo": "octo/repo", "a.b": {"$weird": 1}}
    (event,) = events_of(bus, PresetDeactivated)
    assert (event.preset_id, event.webhook_id, event.graph_id) == (
        "preset-1",
        webhook.id,
        "graph-2",
    )
    assert event.reason == "graph_not_accessible"
    assert all(method != "DELETE" for method, _ in github.calls)


async def test_unlinking_a_preset_prunes_its_webhook(ctx: WebhookContext, bus: InMemoryBus) -> None:
    """SPEC RT-10: no webhook input node → the preset is unlinked."""
    webhook = (await activate_trigger(activate_preset(), ctx)).webhook
    command = DeactivatePresetTrigger(
        user_id=USER, preset_id="preset-1", unlink=True, reason="no_webhook_input_node"
    )
    (outcome,) = await deactivate_preset_trigger(command, ctx)
    assert outcome.pruned
    (event,) = events_of(bus, TriggerDeactivated)
    assert (event.preset_id, event.reason) == ("preset-1", "no_webhook_input_node")
    assert latest_states(bus)[webhook.id] is None


async def test_unlinking_a_graph_removes_only_that_graphs_triggers(
    ctx: WebhookContext, bus: InMemoryBus
) -> None:
    """SPEC RT-9: graph not in library → its orphaned triggers go, the webhook stays while
    another graph uses it."""
    webhook = (await activate_trigger(activate_node("n1", graph_id="gone"), ctx)).webhook
    await activate_trigger(activate_preset(graph_id="gone"), ctx)
    await activate_trigger(activate_node("n2", graph_id="kept"), ctx)
    command = UnlinkGraphTriggers(user_id=USER, graph_id="gone", reason="graph_not_in_library")
    (outcome,) = await unlink_graph_triggers(command, ctx)
    assert not outcome.pruned
    assert {(t.graph_id, getattr(t, "node_id", None)) for t in outcome.triggers} == {
        ("gone", "n1"),
        ("gone", None),
    }
    state = latest_states(bus)[webhook.id]
    assert state is not None
    assert [t.node_id for t in state.node_triggers] == ["n2"]
    assert state.preset_triggers == []
    assert {e.reason for e in events_of(bus, TriggerDeactivated)} == {"graph_not_in_library"}


async def test_unlinking_a_graph_can_be_limited_to_one_webhook(ctx: WebhookContext) -> None:
    one = (await activate_trigger(activate_node("n1", events=["push"]), ctx)).webhook
    other = (await activate_trigger(activate_node("n2", events=["issues"]), ctx)).webhook
    command = UnlinkGraphTriggers(
        user_id=USER, graph_id="graph-1", webhook_id=one.id, reason="graph_not_in_library"
    )
    (outcome,) = await unlink_graph_triggers(command, ctx)
    assert outcome.webhook_id == one.id
    assert outcome.pruned
    assert await ctx.repository.get(other.id) is not None


async def test_another_users_webhook_is_never_touched(ctx: WebhookContext) -> None:
    """DESIGN §6: every query is scoped by user."""
    theirs = (await activate_trigger(activate_node("n1"), ctx)).webhook
    unlink = UnlinkGraphTriggers(
        user_id=OTHER_USER, graph_id="graph-1", webhook_id=theirs.id, reason="x"
    )
    assert await unlink_graph_triggers(unlink, ctx) == []
    preset = DeactivatePresetTrigger(user_id=OTHER_USER, preset_id="preset-1", reason="x")
    assert await deactivate_preset_trigger(preset, ctx) == []
    stored = await ctx.repository.get(theirs.id)
    assert stored is not None
    assert stored.has_triggers
    assert stored.credentials_id == CREDS
