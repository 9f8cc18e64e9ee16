"""The webhook model and its rules, without I/O."""

import pytest
from pydantic import SecretStr

from integrations.contracts import NodeTrigger, PresetTrigger
from integrations.credentials.domain.webhooks import (
    ActivationFailed,
    WebhooksNotConfigured,
    activation_request,
    auto_dedupe_key,
    check_webhook_type,
    ingress_url,
    manual_dedupe_key,
    new_webhook,
)
from integrations.providers import WebhookRegistration
from tests.unit.credentials_webhooks.kit import USER, activate_node, activate_preset

pytestmark = pytest.mark.unit

SECRET = SecretStr("s" * 64)


def auto_key(**changes: object) -> str:
    fields: dict[str, object] = {
        "user_id": USER,
        "provider": "github",
        "credentials_id": "cred",
        "webhook_type": "repo",
        "resource": "octo/repo",
        "events": ["push", "pull_request.opened"],
    }
    fields.update(changes)
    return auto_dedupe_key(**fields)  # type: ignore[arg-type]


def test_ingress_url_is_the_platform_url_of_the_provider_and_webhook() -> None:
    """SPEC WH-1"""
    url = ingress_url("https://platform.example/", "github", "wh-1")
    assert url == "https://platform.example/api/integrations/github/webhooks/wh-1/ingress"


@pytest.mark.parametrize("base", ["", "   "])
def test_ingress_url_without_a_platform_base_url_is_not_configured(base: str) -> None:
    """SPEC WH-2: missing platform base URL → "not configured"."""
    with pytest.raises(WebhooksNotConfigured, match="not configured"):
        ingress_url(base, "github", "wh-1")


def test_auto_dedupe_key_ignores_the_order_and_repetition_of_events() -> None:
    """SPEC WH-2: the same user, credentials, type, resource and events find one webhook."""
    assert auto_key() == auto_key(events=["pull_request.opened", "push", "push"])


@pytest.mark.parametrize(
    "change",
    [
        {"user_id": "user-2"},
        {"provider": "other"},
        {"credentials_id": "cred-2"},
        {"webhook_type": "org"},
        {"resource": "octo/other"},
        {"events": ["push"]},
    ],
)
def test_auto_dedupe_key_differs_when_any_part_differs(change: dict[str, object]) -> None:
    """SPEC WH-2"""
    assert auto_key(**change) != auto_key()


def test_fields_cannot_be_shifted_into_each_other() -> None:
    assert auto_key(user_id="a", credentials_id="b/c") != auto_key(
        user_id="a/b", credentials_id="c"
    )


def test_manual_webhooks_belong_to_their_graph_or_preset() -> None:
    """SPEC WH-3: one manual webhook per graph (node triggers) or preset, whatever events."""
    node_v1 = activation_request(activate_node("n1", manual=True, events=["a"]))
    node_v2 = activation_request(activate_node("n2", manual=True, events=["b"], graph_version=2))
    preset = activation_request(activate_preset(manual=True))
    assert node_v1.dedupe_key() == node_v2.dedupe_key()
    assert node_v1.dedupe_key() != preset.dedupe_key()
    assert node_v1.dedupe_key() != manual_dedupe_key(
        user_id="user-2", provider="github", webhook_type="repo", owner=("node", "graph-1")
    )


def test_a_new_auto_webhook_is_pending_and_unlinked_until_registered() -> None:
    """SPEC WH-2"""
    request = activation_request(activate_node())
    webhook = new_webhook(request, webhook_id="wh", secret=SECRET, now=5.0)
    assert (webhook.status, webhook.triggers, webhook.provider_webhook_id) == ("pending", (), "")
    registered = webhook.registered_with(
        WebhookRegistration(provider_webhook_id="42", config={"url": "u"})
    ).with_trigger(request.trigger)
    assert registered.is_active
    assert registered.provider_webhook_id == "42"
    assert registered.config == {"url": "u"}
    assert registered.node_triggers == (request.trigger,)


def test_a_new_manual_webhook_is_active_linked_and_registers_nothing() -> None:
    """SPEC WH-3"""
    request = activation_request(activate_preset(manual=True, credentials_id=None))
    webhook = new_webhook(request, webhook_id="wh", secret=SECRET, now=5.0)
    assert webhook.is_active
    assert webhook.manual
    assert (webhook.provider_webhook_id, dict(webhook.config)) == ("", {})
    assert webhook.preset_triggers == (request.trigger,)


def test_linking_a_node_again_replaces_its_link() -> None:
    request = activation_request(activate_node())
    webhook = new_webhook(request, webhook_id="wh", secret=SECRET, now=0).with_trigger(
        request.trigger
    )
    newer = NodeTrigger(node_id="node-1", graph_id="graph-1", graph_version=2)
    assert webhook.with_trigger(newer).node_triggers == (newer,)


def test_removing_a_graph_keeps_the_other_graphs_triggers() -> None:
    """SPEC RT-9"""
    request = activation_request(activate_node())
    base = new_webhook(request, webhook_id="wh", secret=SECRET, now=0)
    other = NodeTrigger(node_id="n2", graph_id="graph-9", graph_version=1)
    preset = activation_request(activate_preset(graph_id="graph-1")).trigger
    webhook = base.with_trigger(request.trigger).with_trigger(other).with_trigger(preset)
    left = webhook.without_graph("graph-1")
    assert left.triggers == (other,)
    assert left.removed_from(webhook) == (request.trigger, preset)


def test_a_deactivated_preset_stays_linked_but_inactive() -> None:
    """SPEC RT-10"""
    preset = activation_request(activate_preset()).trigger
    assert isinstance(preset, PresetTrigger)
    base = new_webhook(activation_request(activate_preset()), webhook_id="w", secret=SECRET, now=0)
    webhook = base.with_trigger(preset).with_preset_inactive(preset.preset_id)
    (kept,) = webhook.preset_triggers
    assert not kept.is_active
    assert kept.inputs == preset.inputs


def test_only_unfinished_work_goes_stale() -> None:
    request = activation_request(activate_node())
    pending = new_webhook(request, webhook_id="wh", secret=SECRET, now=100.0)
    assert not pending.is_stale(150.0, after_s=60)
    assert pending.is_stale(161.0, after_s=60)
    assert not pending.with_status("active").is_stale(1_000.0, after_s=60)


def test_a_provider_may_restrict_webhook_types() -> None:
    check_webhook_type("repo", ("repo",))
    check_webhook_type("anything", ())
    with pytest.raises(ActivationFailed) as failure:
        check_webhook_type("org", ("repo",))
    assert failure.value.error_code == "unsupported_webhook_type"


def test_the_secret_never_shows_in_a_webhooks_repr() -> None:
    request = activation_request(activate_node())
    webhook = new_webhook(request, webhook_id="wh", secret=SECRET, now=0)
    assert SECRET.get_secret_value() not in repr(webhook)
