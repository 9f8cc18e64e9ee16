"""The writes every webhook verb is built of: a change applied until it sticks (optimistic
concurrency), and pruning (SPEC WH-4), including what a crashed worker left half done."""

import logging
from collections.abc import Callable

from integrations.contracts import WebhookPruned
from integrations.credentials.domain.webhooks import Webhook
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_events import publish_event, publish_latest
from integrations.providers import ProviderAuth, ProviderError, WebhookManager

log = logging.getLogger(__name__)

Change = Callable[[Webhook], Webhook]


async def apply_change(
    webhook: Webhook, change: Change, ctx: WebhookContext
) -> tuple[Webhook, Webhook] | None:
    """(the copy `change` was applied to, the stored result), retrying lost version races
    on a fresh copy; None when the webhook is gone or no longer active. Publishes the state."""
    current: Webhook | None = webhook
    while current is not None and current.is_active:
        updated = change(current)
        if updated == current:
            return current, current
        saved = await ctx.repository.save(updated)
        if saved is not None:
            await publish_latest(saved.id, ctx)
            return current, saved
        current = await ctx.repository.get(webhook.id)
    return None


async def prune_if_dangling(
    webhook: Webhook, ctx: WebhookContext, *, command_id: str | None = None
) -> bool:
    """WH-4: a webhook without triggers is deregistered at the provider (when its
    credentials still exist) and deleted; True if it was."""
    marked = await _mark_pruning(webhook, ctx)
    if marked is None:
        return False
    deregistered = await _deregister(marked, ctx)
    removed = await ctx.repository.remove(marked)
    await publish_latest(marked.id, ctx)  # gone: the tombstone
    if removed:
        log.info("webhook pruned", extra=webhook_ids(marked))
        pruned = WebhookPruned(
            user_id=marked.user_id,
            command_id=command_id,
            webhook_id=marked.id,
            provider=marked.provider,
            deregistered=deregistered,
        )
        await publish_event(pruned, ctx)
    return removed


async def recover(stale: Webhook, ctx: WebhookContext) -> None:
    """Finish what a crashed worker left: a registration is dropped (its provider id was
    never stored), a pruning is completed."""
    if stale.status == "pending":
        log.warning("dropping an abandoned webhook registration", extra=webhook_ids(stale))
        await ctx.repository.remove(stale)
    elif stale.status == "pruning":
        await prune_if_dangling(stale, ctx)


async def deregister_with(
    manager: WebhookManager, webhook: Webhook, auth: ProviderAuth | None
) -> bool:
    try:
        await manager.deregister(webhook, auth)
    except ProviderError as error:
        log.warning("could not deregister the webhook: %s", error, extra=webhook_ids(webhook))
        return False
    return True


def webhook_ids(webhook: Webhook) -> dict[str, str]:
    """What log lines say about a webhook: ids only."""
    return {"user_id": webhook.user_id, "webhook_id": webhook.id}


async def _mark_pruning(webhook: Webhook, ctx: WebhookContext) -> Webhook | None:
    """The webhook marked `pruning`, so no activation links to it while it is deregistered;
    None when it has triggers (again) or is gone."""
    current: Webhook | None = webhook
    while current is not None:
        if current.status == "pruning":
            return current
        if current.has_triggers or not current.is_active:
            return None
        marked = await ctx.repository.save(current.with_status("pruning"))
        if marked is not None:
            return marked
        current = await ctx.repository.get(webhook.id)
    return None


async def _deregister(webhook: Webhook, ctx: WebhookContext) -> bool | None:
    """True: deregistered; False: the provider failed (logged; the webhook goes anyway, so a
    provider outage never blocks a user); None: nothing to call (manual, or no credentials)."""
    manager = ctx.managers.get(webhook.provider)
    if webhook.manual or not webhook.provider_webhook_id or manager is None:
        return None
    if webhook.credentials_id is None:
        return None
    auth = await ctx.auth.auth_for(webhook.user_id, webhook.credentials_id, webhook.provider)
    if auth is None:
        return None
    return await deregister_with(manager, webhook, auth)
