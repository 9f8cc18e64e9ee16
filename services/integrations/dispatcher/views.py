"""The delivery log as its owner sees it. Another user's webhook answers exactly like a
missing one (DESIGN §6)."""

from integrations.dispatcher.context import Dispatcher
from integrations.dispatcher.domain.deliveries import Delivery, Outcome
from integrations.dispatcher.domain.errors import DeliveryNotFound
from integrations.dispatcher.domain.ports import DeliveryPage


async def list_deliveries(
    *,
    user_id: str,
    webhook_id: str,
    d: Dispatcher,
    outcome: Outcome | None = None,
    limit: int = 20,
    cursor: str | None = None,
) -> DeliveryPage:
    """Newest first. A webhook the view does not know (pruned) still lists what its owner's
    deliveries left behind; with none, it is not found."""
    _check_owner(user_id, webhook_id, d)
    now = d.clock()
    page = await d.deliveries.page(
        user_id=user_id, webhook_id=webhook_id, now=now, outcome=outcome, limit=limit, cursor=cursor
    )
    if (
        not page.items
        and d.webhooks.get(webhook_id) is None
        and not await d.deliveries.any_for(user_id=user_id, webhook_id=webhook_id, now=now)
    ):
        raise DeliveryNotFound(webhook_id)
    return page


async def get_delivery(*, user_id: str, webhook_id: str, event_id: str, d: Dispatcher) -> Delivery:
    _check_owner(user_id, webhook_id, d)
    delivery = await d.deliveries.get(
        user_id=user_id, webhook_id=webhook_id, event_id=event_id, now=d.clock()
    )
    if delivery is None:
        raise DeliveryNotFound(event_id)
    return delivery


def _check_owner(user_id: str, webhook_id: str, d: Dispatcher) -> None:
    # Deliveries carry their own user id too (checked by the log): this catches a webhook
    # that changed hands, and answers without a database round trip.
    webhook = d.webhooks.get(webhook_id)
    if webhook is not None and webhook.user_id != user_id:
        raise DeliveryNotFound(webhook_id)
