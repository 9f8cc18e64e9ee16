"""SPEC RT-8, WH-6: ask the provider to ping a webhook and wait for the ping to come in."""

from integrations.bus import Predicate, Record
from integrations.contracts import ContractError, WebhookEventReceived, decode_as, topics
from integrations.credentials.domain.webhooks import WebhookNotFound
from integrations.credentials.webhook_context import WebhookContext
from integrations.providers import PingNotSupported

PING_EVENT = "ping"


class PingTimedOut(TimeoutError):
    def __init__(self) -> None:
        super().__init__("Webhook ping timed out.")


async def ping_webhook(user_id: str, webhook_id: str, ctx: WebhookContext) -> bool:
    """True once the ping delivery was received; False when the provider cannot ping.
    Raises `WebhookNotFound` (also for another user's webhook) or `PingTimedOut`."""
    webhook = await ctx.repository.get_for_user(user_id, webhook_id)
    if webhook is None or not webhook.is_active:
        raise WebhookNotFound()
    manager = ctx.managers.get(webhook.provider)
    if manager is None or webhook.manual:
        return False  # nothing registered at the provider that it could ping
    auth = None
    if webhook.credentials_id is not None:
        auth = await ctx.auth.auth_for(user_id, webhook.credentials_id, webhook.provider)
    # Entered before asking: a ping that arrives faster than the provider's answer counts.
    async with ctx.bus.expect(topics.WEBHOOK_EVENTS, is_ping_of(webhook.id)) as expectation:
        try:
            await manager.trigger_ping(webhook, auth)
        except PingNotSupported:
            return False
        try:
            await expectation.wait(ctx.policy.ping_timeout_s)
        except TimeoutError:
            raise PingTimedOut() from None
    return True


def is_ping_of(webhook_id: str) -> Predicate:
    def matches(record: Record) -> bool:
        if record.key != webhook_id or record.value is None:
            return False
        try:
            event = decode_as(WebhookEventReceived, record.value)
        except ContractError:
            return False
        return event.webhook_id == webhook_id and event.event_type == PING_EVENT

    return matches
