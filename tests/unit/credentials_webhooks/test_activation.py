"""Activating node and preset triggers (SPEC WH-1, WH-2, WH-3) with the in-memory bus, the
embedded store and a fake GitHub."""

import pytest

from integrations.bus import InMemoryBus
from integrations.contracts import (
    TriggerActivated,
    TriggerActivationFailed,
    WebhookPruned,
    topics,
)
from integrations.credentials.domain.webhooks import ActivationFailed
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_handlers import activate_trigger
from integrations.crypto import CryptoError
from integrations.storage import Database
from tests.unit.credentials_webhooks.kit import (
    BASE_URL,
    STATE_CIPHER,
    FakeCredentials,
    FakeGitHub,
    activate_node,
    activate_preset,
    api_key,
    events_of,
    latest_states,
    make_context,
)

pytestmark = pytest.mark.unit


async def test_an_auto_webhook_is_registered_linked_and_announced(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC WH-1, WH-2"""
    command = activate_node()
    activation = await activate_trigger(command, ctx)
    webhook = activation.webhook
    url = f"{BASE_URL}/api/integrations/github/webhooks/{webhook.id}/ingress"
    assert activation.new_webhook
    assert github.created[0]["config"]["url"] == url
    assert github.created[0]["config"]["secret"] == webhook.secret.get_secret_value()
    assert webhook.provider_webhook_id == "1001"
    (event,) = events_of(bus, TriggerActivated)
    assert (event.webhook_id, event.ingress_url, event.node_id) == (webhook.id, url, "node-1")
    assert (event.command_id, event.new_webhook, event.manual) == (command.command_id, True, False)
    state = latest_states(bus)[webhook.id]
    assert state is not None
    assert [t.node_id for t in state.node_triggers] == ["node-1"]
    assert (state.provider_webhook_id, state.ingress_url, state.manual) == ("1001", url, False)


async def test_a_suitable_webhook_is_reused(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC WH-2: same user, credentials, type, resource and events (in any order)."""
    first = await activate_trigger(activate_node("n1", events=["push", "issues.opened"]), ctx)
    second = await activate_trigger(activate_node("n2", events=["issues.opened", "push"]), ctx)
    preset = await activate_trigger(activate_preset(events=["push", "issues.opened"]), ctx)
    assert second.webhook.id == preset.webhook.id == first.webhook.id
    assert not second.new_webhook
    assert not preset.new_webhook
    assert len(github.created) == 1
    state = latest_states(bus)[first.webhook.id]
    assert state is not None
    assert [t.node_id for t in state.node_triggers] == ["n1", "n2"]
    assert [t.preset_id for t in state.preset_triggers] == ["preset-1"]
    assert [e.new_webhook for e in events_of(bus, TriggerActivated)] == [True, False, False]


@pytest.mark.parametrize(
    "change",
    [{"events": ["push"]}, {"resource": "octo/other"}, {"credentials_id": "cred-2"}],
)
async def test_a_different_webhook_is_registered_when_anything_differs(
    ctx: WebhookContext, credentials: FakeCredentials, github: FakeGitHub, change: dict[str, str]
) -> None:
    """SPEC WH-2"""
    credentials.add(credentials=api_key("cred-2"))
    first = await activate_trigger(activate_node("n1"), ctx)
    second = await activate_trigger(activate_node("n2", **change), ctx)  # type: ignore[arg-type]
    assert second.webhook.id != first.webhook.id
    assert len(github.created) == 2


async def test_activating_the_same_trigger_twice_changes_nothing(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """A redelivered command links once and registers once."""
    command = activate_node()
    first = await activate_trigger(command, ctx)
    again = await activate_trigger(command, ctx)
    assert again.webhook == first.webhook
    assert len(github.created) == 1
    assert len(events_of(bus, TriggerActivated)) == 2


async def test_a_manual_webhook_calls_no_provider(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC WH-3: `provider_webhook_id=""`, `config={}`, the ingress URL in TriggerActivated."""
    command = activate_node(
        provider="generic_webhook",
        webhook_type="plain",
        resource="",
        manual=True,
        credentials_id=None,
    )
    activation = await activate_trigger(command, ctx)
    webhook = activation.webhook
    assert github.requests == []
    assert (webhook.provider_webhook_id, dict(webhook.config), webhook.manual) == ("", {}, True)
    (event,) = events_of(bus, TriggerActivated)
    assert event.manual
    assert event.ingress_url == (
        f"{BASE_URL}/api/integrations/generic_webhook/webhooks/{webhook.id}/ingress"
    )


async def test_a_manual_webhook_keeps_its_url_when_its_events_change(
    ctx: WebhookContext, bus: InMemoryBus
) -> None:
    """SPEC WH-3: reused for the same graph/preset, events updated in place."""

    def manual(node_id: str, events: list[str], version: int = 1) -> object:
        return activate_node(
            node_id,
            provider="generic_webhook",
            webhook_type="plain",
            resource="",
            manual=True,
            credentials_id=None,
            events=events,
            graph_version=version,
        )

    first = await activate_trigger(manual("n1", ["a"]), ctx)  # type: ignore[arg-type]
    second = await activate_trigger(manual("n2", ["b", "c"], 2), ctx)  # type: ignore[arg-type]
    preset = await activate_trigger(
        activate_preset(
            provider="generic_webhook",
            webhook_type="plain",
            manual=True,
            credentials_id=None,
            events=["b"],
        ),
        ctx,
    )
    assert second.webhook.id == first.webhook.id
    assert not second.new_webhook
    assert second.webhook.events == ("b", "c")
    assert preset.webhook.id != first.webhook.id  # a preset has its own
    urls = {e.ingress_url for e in events_of(bus, TriggerActivated) if e.node_id}
    assert len(urls) == 1
    state = latest_states(bus)[first.webhook.id]
    assert state is not None
    assert state.events == ["b", "c"]


async def test_a_manual_webhook_of_a_signed_provider_gets_a_secret(ctx: WebhookContext) -> None:
    command = activate_node(
        provider="slack", webhook_type="events", resource="", manual=True, credentials_id=None
    )
    webhook = (await activate_trigger(command, ctx)).webhook
    assert len(webhook.secret.get_secret_value()) == 64  # 32 random bytes


async def test_missing_platform_base_url_fails_as_not_configured(
    database: Database, bus: InMemoryBus, github: FakeGitHub, credentials: FakeCredentials
) -> None:
    """SPEC WH-1, WH-2"""
    ctx = make_context(database, bus, github, credentials, base_url="")
    with pytest.raises(ActivationFailed):
        await activate_trigger(activate_node(), ctx)
    (failed,) = events_of(bus, TriggerActivationFailed)
    assert failed.error_code == "not_configured"
    assert github.requests == []


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (activate_node(credentials_id="nobody"), "credentials_not_found"),
        (activate_node(provider="slack", webhook_type="events"), "provider_not_supported"),
        (activate_node(provider="openai"), "provider_not_supported"),
        (activate_node(webhook_type="org"), "unsupported_webhook_type"),
    ],
)
async def test_an_activation_that_cannot_work_fails_with_a_reason(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub, command: object, code: str
) -> None:
    with pytest.raises(ActivationFailed):
        await activate_trigger(command, ctx)  # type: ignore[arg-type]
    (failed,) = events_of(bus, TriggerActivationFailed)
    assert (failed.error_code, failed.node_id, failed.graph_id) == (code, "node-1", "graph-1")
    assert failed.reason
    assert github.requests == []


async def test_credentials_of_another_user_or_provider_cannot_register(
    ctx: WebhookContext, credentials: FakeCredentials
) -> None:
    """Tenant isolation: another user's credential id is not this user's."""
    credentials.add("user-2", api_key("theirs"))
    credentials.add(credentials=api_key("notion-key", provider="notion"))
    for credentials_id in ("theirs", "notion-key"):
        with pytest.raises(ActivationFailed) as failure:
            await activate_trigger(activate_node(credentials_id=credentials_id), ctx)
        assert failure.value.error_code == "credentials_not_found"


async def test_a_provider_refusal_leaves_no_webhook(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    github.fail_with = 422
    with pytest.raises(ActivationFailed) as failure:
        await activate_trigger(activate_node(), ctx)
    assert failure.value.error_code == "provider_error"
    assert "422" in failure.value.reason
    assert [w async for w in ctx.repository.scan()] == []
    assert latest_states(bus) == {}
    github.fail_with = None
    assert (await activate_trigger(activate_node(), ctx)).new_webhook


async def test_moving_a_node_to_other_events_unlinks_and_prunes_the_old_webhook(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """A node has one webhook: relinking it prunes the one it leaves empty (SPEC WH-4)."""
    old = await activate_trigger(activate_node(events=["push"]), ctx)
    new = await activate_trigger(activate_node(events=["issues"]), ctx)
    assert new.webhook.id != old.webhook.id
    assert await ctx.repository.get(old.webhook.id) is None
    assert latest_states(bus)[old.webhook.id] is None
    (pruned,) = events_of(bus, WebhookPruned)
    assert (pruned.webhook_id, pruned.deregistered) == (old.webhook.id, True)
    assert list(github.hooks) == [new.webhook.provider_webhook_id]


async def test_the_published_secret_opens_only_with_the_webhook_secret_key_and_id(
    ctx: WebhookContext, bus: InMemoryBus
) -> None:
    """DESIGN §6: ciphertext under `webhook-secrets`, bound to the webhook id."""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    state = latest_states(bus)[webhook.id]
    assert state is not None
    plaintext = webhook.secret.get_secret_value()
    assert plaintext not in state.model_dump_json()
    opened = STATE_CIPHER.decrypt_text(state.secret_ciphertext, associated_data=webhook.id.encode())
    assert opened == plaintext
    with pytest.raises(CryptoError):
        STATE_CIPHER.decrypt_text(state.secret_ciphertext, associated_data=b"another-webhook")


async def test_states_carry_increasing_versions(ctx: WebhookContext, bus: InMemoryBus) -> None:
    await activate_trigger(activate_node("n1"), ctx)
    await activate_trigger(activate_node("n2"), ctx)
    states = [
        r for partition in bus.log_of(topics.WEBHOOKS) for r in partition if r.value is not None
    ]
    assert len(states) == 2
    (state,) = [s for s in latest_states(bus).values() if s is not None]
    assert state.version == 3  # inserted pending (1), registered (2), second node linked (3)
