"""Webhooks seen from the rest of the service: the `WebhookUsage` seam of credentials
deletion (SPEC RT-6), start-up republication, and lookups for the internal routes."""

import asyncio
import dataclasses
import logging

from integrations.contracts import WebhookState
from integrations.credentials.domain.webhook_ports import ProviderAuthSource
from integrations.credentials.domain.webhooks import Webhook
from integrations.credentials.webhook_changes import recover
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_events import publish_state, state_of
from integrations.credentials.webhook_handlers import unlink_triggers

log = logging.getLogger(__name__)

CREDENTIALS_DELETED = "credentials_deleted"


class LinkedWebhooks:
    """`WebhookUsage`: the webhooks registered with a user's credentials."""

    def __init__(self, ctx: WebhookContext, *, auth: ProviderAuthSource | None = None) -> None:
        # A deletion holds the credential's lease while it releases the webhooks: `auth` then
        # reads the token without waiting for that lease (it would wait for itself).
        self._ctx = ctx if auth is None else dataclasses.replace(ctx, auth=auth)

    async def in_use(self, user_id: str, credentials_id: str) -> bool:
        webhooks = await self._ctx.repository.for_credentials(user_id, credentials_id)
        return any(w.is_active and w.has_triggers for w in webhooks)

    async def release(self, user_id: str, credentials_id: str) -> None:
        """Unlink every trigger, then prune (deregister while the credentials still exist)."""
        webhooks = await self._ctx.repository.for_credentials(user_id, credentials_id)
        await unlink_triggers(
            [w for w in webhooks if w.is_active],
            lambda w: w.without_triggers(),
            CREDENTIALS_DELETED,
            None,
            self._ctx,
            prune_untouched=True,
        )


async def republish_webhooks(ctx: WebhookContext) -> int:
    """Every active webhook's state to the compacted topic, so views rebuilt from an empty
    topic (the embedded bus, a lost topic) converge; abandoned work is finished on the way.
    The number published."""
    published = 0
    batch: list[Webhook] = []
    async for webhook in ctx.repository.scan():
        if webhook.is_active:
            batch.append(webhook)
        elif webhook.is_stale(ctx.clock(), after_s=ctx.policy.stale_after_s):
            await recover(webhook, ctx)
        if len(batch) >= ctx.policy.republish_batch:
            published += await _publish_all(batch, ctx)
            batch = []
    published += await _publish_all(batch, ctx)
    log.info("republished %d webhook states", published)
    return published


async def _publish_all(webhooks: list[Webhook], ctx: WebhookContext) -> int:
    # Concurrently: each publish waits for the broker's ack.
    await asyncio.gather(*(publish_state(w, ctx) for w in webhooks))
    return len(webhooks)


async def webhook_state(webhook_id: str, ctx: WebhookContext) -> WebhookState | None:
    """What ingress reads through on a view miss: unknown until registered, known until
    its tombstone (a pruning webhook still is)."""
    webhook = await ctx.repository.get(webhook_id)
    if webhook is None or webhook.status == "pending":
        return None
    return state_of(webhook, ctx)


async def webhooks_of(user_id: str, ctx: WebhookContext) -> list[WebhookState]:
    return [state_of(w, ctx) for w in await ctx.repository.for_user(user_id) if w.is_active]
