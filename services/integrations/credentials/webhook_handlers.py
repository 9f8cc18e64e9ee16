"""The webhook verbs (SPEC WH-1..WH-4, RT-6, RT-9, RT-10): link triggers to webhooks found
or created, unlink them, prune webhooks left without triggers.

Concurrency: every change is a versioned write that re-reads and decides again when it
loses. A new auto webhook is inserted `pending` first (the `dedupe_key` unique index lets
one of N concurrent activations win), registered at the provider by that winner only, then
activated with its link; the losers wait for it and link to it. So no provider hook is made
for a webhook that is not stored, and the only hook that can leak is one whose registrar
crashed between the provider's answer and the write (documented in docs/webhooks.md).
"""

import logging
import time
from dataclasses import dataclass

from integrations.contracts import (
    ActivateNodeTrigger,
    ActivatePresetTrigger,
    DeactivateNodeTrigger,
    DeactivatePresetTrigger,
    PresetDeactivated,
    PresetTrigger,
    UnlinkGraphTriggers,
)
from integrations.credentials.domain.webhook_ports import DuplicateWebhook
from integrations.credentials.domain.webhooks import (
    ActivationFailed,
    ActivationRequest,
    Trigger,
    TriggerKey,
    Webhook,
    WebhooksNotConfigured,
    activation_request,
    check_configured,
    check_webhook_type,
    ingress_url,
    key_of,
    new_webhook,
)
from integrations.credentials.webhook_changes import (
    Change,
    apply_change,
    deregister_with,
    prune_if_dangling,
    recover,
    webhook_ids,
)
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_events import (
    ActivateTrigger,
    activated,
    activation_failed,
    deactivated,
    publish_event,
    publish_latest,
)
from integrations.providers import ProviderAuth, ProviderError, WebhookManager

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Activation:
    webhook: Webhook
    new_webhook: bool


@dataclass(frozen=True, slots=True)
class Unlinked:
    """A webhook a deactivation changed: the triggers it lost (none when a preset was only
    marked inactive), and whether it was pruned."""

    webhook_id: str
    triggers: tuple[Trigger, ...]
    pruned: bool


# --- activation -----------------------------------------------------------------------


async def activate_trigger(command: ActivateTrigger, ctx: WebhookContext) -> Activation:
    """WH-1..WH-3: link the node or preset to a suitable webhook, found or created; then
    unlink it from any other webhook (a node or preset has one). Publishes
    `TriggerActivated`, or `TriggerActivationFailed` and raises `ActivationFailed`."""
    request = activation_request(command)
    try:
        activation = await _activate(request, ctx)
    except ActivationFailed as failure:
        log.info("trigger activation failed: %s", failure.error_code, extra=_ids(command))
        await publish_event(activation_failed(command, failure), ctx)
        raise
    await _unlink_elsewhere(request, activation.webhook.id, command.command_id, ctx)
    event = activated(command, activation.webhook, new_webhook=activation.new_webhook, ctx=ctx)
    await publish_event(event, ctx)
    return activation


async def _activate(request: ActivationRequest, ctx: WebhookContext) -> Activation:
    manager = _manager_for(request, ctx)
    try:
        check_configured(ctx.platform_base_url)  # WH-2: before anything is written
    except WebhooksNotConfigured as error:
        raise ActivationFailed("not_configured", str(error)) from None
    deadline = time.monotonic() + ctx.policy.activation_wait_s
    while True:
        current = await ctx.repository.by_dedupe_key(request.dedupe_key())
        if current is None:
            created = await _create(request, manager, ctx)
            if created is not None:
                return Activation(created, new_webhook=True)
        elif not current.is_active:
            await _wait_or_recover(current, deadline, ctx)
        else:
            change = _linked if not request.manual else _linked_with_events
            changed = await apply_change(current, change(request), ctx)
            if changed is not None:
                return Activation(changed[1], new_webhook=False)


def _manager_for(request: ActivationRequest, ctx: WebhookContext) -> WebhookManager | None:
    config = ctx.configs(request.provider)
    if config is None:
        raise ActivationFailed(
            "provider_not_supported", f"Provider {request.provider!r} sends no webhooks."
        )
    check_webhook_type(request.webhook_type, config.webhook_types)
    if request.manual:
        return None
    manager = ctx.managers.get(request.provider)
    if config.mode != "auto" or manager is None:
        raise ActivationFailed(
            "provider_not_supported",
            f"Webhooks of {request.provider!r} cannot be registered automatically; "
            "activate the trigger as a manual webhook.",
        )
    return manager


def _linked(request: ActivationRequest) -> Change:
    return lambda webhook: webhook.with_trigger(request.trigger)


def _preset_inactive(preset_id: str) -> Change:
    return lambda webhook: webhook.with_preset_inactive(preset_id)


def _linked_with_events(request: ActivationRequest) -> Change:
    # WH-3: the same manual webhook, so the same ingress URL, with the new events.
    return lambda webhook: webhook.with_events(request.events).with_trigger(request.trigger)


async def _create(
    request: ActivationRequest, manager: WebhookManager | None, ctx: WebhookContext
) -> Webhook | None:
    """The new webhook, linked; None when another worker created one first."""
    auth = None
    if manager is not None:
        assert request.credentials_id is not None
        auth = await ctx.auth.auth_for(request.user_id, request.credentials_id, request.provider)
        if auth is None:
            raise ActivationFailed(
                "credentials_not_found",
                f"The credentials do not exist or cannot register {request.provider} webhooks.",
            )
    webhook = new_webhook(
        request, webhook_id=ctx.new_id(), secret=ctx.new_secret(), now=ctx.clock()
    )
    try:
        await ctx.repository.add(webhook)
    except DuplicateWebhook:
        return None
    if manager is None:  # manual (WH-3): nothing to register
        await publish_latest(webhook.id, ctx)
        return webhook
    return await _register(webhook, request.trigger, manager, auth, ctx)


async def _register(
    pending: Webhook,
    trigger: Trigger,
    manager: WebhookManager,
    auth: ProviderAuth | None,
    ctx: WebhookContext,
) -> Webhook | None:
    try:
        registration = await manager.register(
            auth=auth,
            webhook_type=pending.webhook_type,
            resource=pending.resource,
            events=pending.events,
            ingress_url=ingress_url(ctx.platform_base_url, pending.provider, pending.id),
            secret=pending.secret,
        )
    except Exception as error:
        await _abandon(pending, ctx)
        if isinstance(error, ProviderError):
            raise ActivationFailed("provider_error", str(error)) from None
        raise
    saved = await ctx.repository.save(pending.registered_with(registration).with_trigger(trigger))
    if saved is None:
        # Taken over as stale, or pruned by a credentials deletion, while we registered:
        # the provider's hook belongs to no stored webhook, so it goes again.
        log.warning("registered webhook was taken over; deregistering", extra=webhook_ids(pending))
        await deregister_with(manager, pending.registered_with(registration), auth)
        return None
    await publish_latest(saved.id, ctx)
    return saved


async def _abandon(pending: Webhook, ctx: WebhookContext) -> None:
    try:
        await ctx.repository.remove(pending)
    except Exception:
        # Left pending: the next activation of it takes it over once it is stale.
        log.exception("could not remove an unregistered webhook", extra=webhook_ids(pending))


async def _wait_or_recover(current: Webhook, deadline: float, ctx: WebhookContext) -> None:
    """Another worker is registering or pruning `current`: wait for it, or take over when it
    has been silent too long (it crashed)."""
    if current.is_stale(ctx.clock(), after_s=ctx.policy.stale_after_s):
        await recover(current, ctx)
        return
    if time.monotonic() > deadline:
        raise ActivationFailed(
            "busy", "Another request is still setting up this webhook; retry shortly."
        )
    await ctx.sleep(ctx.policy.poll_s)


async def _unlink_elsewhere(
    request: ActivationRequest, keep: str, command_id: str, ctx: WebhookContext
) -> None:
    key = key_of(request.trigger)
    for webhook in await ctx.repository.for_user(request.user_id):
        if webhook.id != keep and webhook.is_active and webhook.trigger(key) is not None:
            changed = await apply_change(webhook, lambda w: w.without(key), ctx)
            if changed is not None:
                await prune_if_dangling(changed[1], ctx, command_id=command_id)


# --- deactivation and clean-up ----------------------------------------------------------


async def deactivate_node_trigger(
    command: DeactivateNodeTrigger, ctx: WebhookContext
) -> list[Unlinked]:
    key: TriggerKey = ("node", command.node_id)
    webhooks = await _holding(key, command.user_id, command.webhook_id, ctx)
    return await unlink_triggers(
        webhooks, lambda w: w.without(key), "node_deactivated", command.command_id, ctx
    )


async def deactivate_preset_trigger(
    command: DeactivatePresetTrigger, ctx: WebhookContext
) -> list[Unlinked]:
    """RT-10: `unlink` removes the link; otherwise the preset stays linked, inactive."""
    key: TriggerKey = ("preset", command.preset_id)
    webhooks = await _holding(key, command.user_id, command.webhook_id, ctx)
    if command.unlink:
        return await unlink_triggers(
            webhooks, lambda w: w.without(key), command.reason, command.command_id, ctx
        )
    outcomes: list[Unlinked] = []
    for webhook in webhooks:
        changed = await apply_change(webhook, _preset_inactive(command.preset_id), ctx)
        trigger = None if changed is None else changed[1].trigger(key)
        if isinstance(trigger, PresetTrigger):
            outcomes.append(Unlinked(webhook.id, (), pruned=False))
            # Published even when it already was inactive: a redelivered command re-announces.
            event = PresetDeactivated(
                user_id=command.user_id,
                command_id=command.command_id,
                preset_id=command.preset_id,
                graph_id=trigger.graph_id,
                webhook_id=webhook.id,
                reason=command.reason,
            )
            await publish_event(event, ctx)
    return outcomes


async def unlink_graph_triggers(
    command: UnlinkGraphTriggers, ctx: WebhookContext
) -> list[Unlinked]:
    """RT-9: the graph's node and preset triggers go (on one webhook, or on all)."""
    if command.webhook_id is not None:
        one = await ctx.repository.get_for_user(command.user_id, command.webhook_id)
        candidates = [] if one is None else [one]
    else:
        candidates = await ctx.repository.for_user(command.user_id)
    webhooks = [
        w
        for w in candidates
        if w.is_active and any(t.graph_id == command.graph_id for t in w.triggers)
    ]
    return await unlink_triggers(
        webhooks,
        lambda w: w.without_graph(command.graph_id),
        command.reason,
        command.command_id,
        ctx,
    )


async def _holding(
    key: TriggerKey, user_id: str, hint: str | None, ctx: WebhookContext
) -> list[Webhook]:
    """The user's webhooks linked to `key`; the sender's hint saves the scan when right."""
    if hint is not None:
        webhook = await ctx.repository.get_for_user(user_id, hint)
        if webhook is not None and webhook.is_active and webhook.trigger(key) is not None:
            return [webhook]
    return [
        w
        for w in await ctx.repository.for_user(user_id)
        if w.is_active and w.trigger(key) is not None
    ]


async def unlink_triggers(
    webhooks: list[Webhook],
    change: Change,
    reason: str,
    command_id: str | None,
    ctx: WebhookContext,
    *,
    prune_untouched: bool = False,
) -> list[Unlinked]:
    """Apply `change` to each webhook, announce each trigger it removed, prune what is left
    without triggers (`prune_untouched`: also the webhooks it removed nothing from)."""
    outcomes: list[Unlinked] = []
    for webhook in webhooks:
        changed = await apply_change(webhook, change, ctx)
        if changed is None:
            continue
        before, after = changed
        removed = after.removed_from(before)
        for trigger in removed:
            event = deactivated(after, trigger, reason=reason, command_id=command_id)
            await publish_event(event, ctx)
        prune = bool(removed) or prune_untouched
        pruned = await prune_if_dangling(after, ctx, command_id=command_id) if prune else False
        outcomes.append(Unlinked(webhook.id, removed, pruned))
    return outcomes


def _ids(command: ActivateTrigger) -> dict[str, str]:
    return {"user_id": command.user_id, "command_id": command.command_id}


TriggerCommand = (
    ActivateNodeTrigger
    | ActivatePresetTrigger
    | DeactivateNodeTrigger
    | DeactivatePresetTrigger
    | UnlinkGraphTriggers
)


async def apply_trigger_command(
    command: TriggerCommand, ctx: WebhookContext
) -> Activation | list[Unlinked]:
    """One entry for the topic and the internal routes; raises `ActivationFailed`."""
    if isinstance(command, ActivateNodeTrigger | ActivatePresetTrigger):
        return await activate_trigger(command, ctx)
    if isinstance(command, DeactivateNodeTrigger):
        return await deactivate_node_trigger(command, ctx)
    if isinstance(command, DeactivatePresetTrigger):
        return await deactivate_preset_trigger(command, ctx)
    return await unlink_graph_triggers(command, ctx)
