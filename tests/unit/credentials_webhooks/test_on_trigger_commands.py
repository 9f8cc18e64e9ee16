"""`on_trigger_commands`: trigger commands from the topic, applied once each."""

import asyncio

import pytest

from integrations.bus import InMemoryBus
from integrations.contracts import (
    DeactivateNodeTrigger,
    TriggerActivated,
    TriggerActivationFailed,
    UnlinkGraphTriggers,
    WebhookPruned,
    topics,
)
from integrations.credentials.entrypoints import on_trigger_commands
from integrations.credentials.webhook_context import WebhookContext
from tests.unit.credentials_webhooks.kit import (
    USER,
    FakeGitHub,
    activate_node,
    activate_preset,
    events_of,
    latest_states,
)

pytestmark = pytest.mark.unit

SOURCE = "/tests/platform"


async def subscribed(ctx: WebhookContext, bus: InMemoryBus, ready: asyncio.Event) -> None:
    async def until_ready() -> None:
        await ready.wait()

    on_trigger_commands.subscribe(bus, ctx, group="credentials-triggers", until_ready=until_ready)


async def test_commands_from_the_topic_link_and_unlink_triggers(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC WH-2, WH-4, RT-9 through the topic."""
    ready = asyncio.Event()
    ready.set()
    await subscribed(ctx, bus, ready)
    await bus.publish(topics.TRIGGER_COMMANDS, activate_node("n1"), source=SOURCE)
    await bus.publish(topics.TRIGGER_COMMANDS, activate_preset(graph_id="graph-1"), source=SOURCE)
    await bus.drain()
    (state,) = [s for s in latest_states(bus).values() if s is not None]
    assert len(state.node_triggers) == len(state.preset_triggers) == 1
    unlink = UnlinkGraphTriggers(user_id=USER, graph_id="graph-1", reason="graph_not_in_library")
    await bus.publish(topics.TRIGGER_COMMANDS, unlink, source=SOURCE)
    await bus.drain()
    assert latest_states(bus)[state.webhook_id] is None
    (pruned,) = events_of(bus, WebhookPruned)
    assert pruned.command_id == unlink.command_id
    assert github.hooks == {}


async def test_commands_wait_for_the_indexes(ctx: WebhookContext, bus: InMemoryBus) -> None:
    ready = asyncio.Event()
    await subscribed(ctx, bus, ready)
    await bus.publish(topics.TRIGGER_COMMANDS, activate_node(), source=SOURCE)
    await asyncio.sleep(0.05)
    assert events_of(bus, TriggerActivated) == []
    ready.set()
    await bus.drain()
    assert len(events_of(bus, TriggerActivated)) == 1


async def test_a_failed_activation_is_answered_once_not_retried(
    ctx: WebhookContext, bus: InMemoryBus
) -> None:
    ready = asyncio.Event()
    ready.set()
    await subscribed(ctx, bus, ready)
    await bus.publish(
        topics.TRIGGER_COMMANDS, activate_node(credentials_id="nobody"), source=SOURCE
    )
    await bus.drain()
    (failed,) = events_of(bus, TriggerActivationFailed)
    assert failed.error_code == "credentials_not_found"


async def test_unreadable_records_are_skipped(ctx: WebhookContext, bus: InMemoryBus) -> None:
    ready = asyncio.Event()
    ready.set()
    await subscribed(ctx, bus, ready)
    await bus.publish_raw(topics.TRIGGER_COMMANDS, USER, b"{}", [("ce_type", b"nonsense")])
    await bus.publish_raw(
        topics.TRIGGER_COMMANDS,
        USER,
        b"{}",
        [("ce_type", DeactivateNodeTrigger.ce_type.encode())],
    )
    await bus.publish(topics.TRIGGER_COMMANDS, activate_node(), source=SOURCE)
    await bus.drain()
    assert len(events_of(bus, TriggerActivated)) == 1
