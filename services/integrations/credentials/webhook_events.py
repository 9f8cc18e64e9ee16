"""What the webhook verbs publish: the compacted `WebhookState` (or its tombstone) and the
trigger events. Secrets leave only as `webhook-secrets` ciphertext bound to the webhook id,
which is how ingress opens them."""

from datetime import UTC, datetime

from integrations.contracts import (
    ActivateNodeTrigger,
    ActivatePresetTrigger,
    NodeTrigger,
    TriggerActivated,
    TriggerActivationFailed,
    TriggerDeactivated,
    WebhookState,
    topics,
)
from integrations.contracts.messages.base import Event
from integrations.credentials.domain.webhooks import (
    ActivationFailed,
    Trigger,
    Webhook,
    ingress_url,
)
from integrations.credentials.webhook_context import SOURCE, WebhookContext

ActivateTrigger = ActivateNodeTrigger | ActivatePresetTrigger


def ingress_url_of(webhook: Webhook, ctx: WebhookContext) -> str:
    return ingress_url(ctx.platform_base_url, webhook.provider, webhook.id)


def state_of(webhook: Webhook, ctx: WebhookContext) -> WebhookState:
    return WebhookState(
        webhook_id=webhook.id,
        user_id=webhook.user_id,
        provider=webhook.provider,
        credentials_id=webhook.credentials_id,
        webhook_type=webhook.webhook_type,
        resource=webhook.resource,
        events=list(webhook.events),
        config=dict(webhook.config),
        secret_ciphertext=ctx.state_cipher.encrypt_text(
            webhook.secret.get_secret_value(), associated_data=webhook.id.encode()
        ),
        provider_webhook_id=webhook.provider_webhook_id,
        manual=webhook.manual,
        ingress_url=ingress_url_of(webhook, ctx),
        node_triggers=list(webhook.node_triggers),
        preset_triggers=list(webhook.preset_triggers),
        version=webhook.version,
        updated_at=datetime.fromtimestamp(webhook.updated_at, UTC),
    )


async def publish_state(webhook: Webhook, ctx: WebhookContext) -> None:
    await ctx.bus.publish(topics.WEBHOOKS, state_of(webhook, ctx), source=SOURCE, key=webhook.id)


async def publish_latest(webhook_id: str, ctx: WebhookContext) -> None:
    """The stored state as it is now, or a tombstone once it is gone.

    Re-read rather than publish the copy just written: when two replicas change a webhook
    at once, whichever publishes last still publishes the newest state.
    """
    webhook = await ctx.repository.get(webhook_id)
    if webhook is None:
        await ctx.bus.publish(topics.WEBHOOKS, None, source=SOURCE, key=webhook_id)
    elif webhook.status != "pending":  # never published before it is registered
        await publish_state(webhook, ctx)


async def publish_event(event: Event, ctx: WebhookContext) -> None:
    await ctx.bus.publish(topics.TRIGGER_EVENTS, event, source=SOURCE)


def _trigger_ids(trigger: Trigger) -> dict[str, str | None]:
    if isinstance(trigger, NodeTrigger):
        return {"node_id": trigger.node_id, "preset_id": None}
    return {"node_id": None, "preset_id": trigger.preset_id}


def _command_ids(command: ActivateTrigger) -> dict[str, str | None]:
    if isinstance(command, ActivateNodeTrigger):
        return {"node_id": command.node_id, "preset_id": None}
    return {"node_id": None, "preset_id": command.preset_id}


def activated(
    command: ActivateTrigger, webhook: Webhook, *, new_webhook: bool, ctx: WebhookContext
) -> TriggerActivated:
    return TriggerActivated(
        user_id=command.user_id,
        command_id=command.command_id,
        webhook_id=webhook.id,
        ingress_url=ingress_url_of(webhook, ctx),
        provider=webhook.provider,
        graph_id=command.graph_id,
        graph_version=command.graph_version,
        manual=webhook.manual,
        new_webhook=new_webhook,
        **_command_ids(command),
    )


def activation_failed(
    command: ActivateTrigger, failure: ActivationFailed
) -> TriggerActivationFailed:
    return TriggerActivationFailed(
        user_id=command.user_id,
        command_id=command.command_id,
        provider=command.provider,
        graph_id=command.graph_id,
        error_code=failure.error_code,
        reason=failure.reason[:2048],
        **_command_ids(command),
    )


def deactivated(
    webhook: Webhook, trigger: Trigger, *, reason: str, command_id: str | None
) -> TriggerDeactivated:
    return TriggerDeactivated(
        user_id=webhook.user_id,
        command_id=command_id,
        webhook_id=webhook.id,
        graph_id=trigger.graph_id,
        reason=reason,
        **_trigger_ids(trigger),
    )
