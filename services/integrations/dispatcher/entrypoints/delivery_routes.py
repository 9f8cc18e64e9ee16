"""User routes of the delivery log: list, read, redeliver (bearer JWT; owner only)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import APIRouter, Query

from integrations.auth import CurrentUser
from integrations.dispatcher.context import Dispatcher
from integrations.dispatcher.domain.deliveries import Dispatch, Outcome
from integrations.dispatcher.domain.errors import DeliveryNotFound, EventNotKept
from integrations.dispatcher.entrypoints.delivery_schemas import (
    DeliveryDetail,
    DeliveryPage,
    DeliverySummary,
)
from integrations.dispatcher.handlers import redeliver
from integrations.dispatcher.views import get_delivery, list_deliveries
from integrations.web import ApiError
from integrations.web.app import API_PREFIX

Limit = Annotated[int, Query(ge=1, le=100, description="Page size.")]
Cursor = Annotated[str | None, Query(max_length=512, description="From `next_cursor`.")]


@asynccontextmanager
async def _answers() -> AsyncIterator[None]:
    try:
        yield
    except DeliveryNotFound:
        raise ApiError(404, "No such webhook or delivery.") from None
    except EventNotKept:
        message = "The event was too large to keep, so it cannot be redelivered."
        raise ApiError(409, message, code="event_not_kept") from None


def build_router(d: Dispatcher) -> APIRouter:
    router = APIRouter(
        prefix=f"{API_PREFIX}/webhooks/{{webhook_id}}/deliveries", tags=["deliveries"]
    )

    @router.get("", summary="A webhook's deliveries, newest first")
    async def list_webhook_deliveries(
        webhook_id: str,
        user: CurrentUser,
        outcome: Outcome | None = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> DeliveryPage:
        async with _answers():
            try:
                page = await list_deliveries(
                    user_id=user.user_id,
                    webhook_id=webhook_id,
                    d=d,
                    outcome=outcome,
                    limit=limit,
                    cursor=cursor,
                )
            except ValueError:
                raise ApiError(400, "The cursor is not valid.") from None
        return DeliveryPage(
            items=[DeliverySummary.of(item) for item in page.items], next_cursor=page.next_cursor
        )

    # `:path`: provider delivery ids may contain slashes.
    @router.get("/{event_id:path}", summary="One delivery, with its dispatches and payload")
    async def get_webhook_delivery(
        webhook_id: str, event_id: str, user: CurrentUser
    ) -> DeliveryDetail:
        async with _answers():
            delivery = await get_delivery(
                user_id=user.user_id, webhook_id=webhook_id, event_id=event_id, d=d
            )
        return DeliveryDetail.of(delivery)

    @router.post(
        "/{event_id:path}/redeliver",
        summary="Dispatch the event again to the webhook's current triggers, with new request ids",
    )
    async def redeliver_webhook_event(
        webhook_id: str, event_id: str, user: CurrentUser
    ) -> Dispatch:
        async with _answers():
            return await redeliver(
                user_id=user.user_id, webhook_id=webhook_id, event_id=event_id, d=d
            )

    return router
