"""What the delivery-log routes answer."""

from datetime import datetime
from typing import Any, Self

from pydantic import BaseModel, Field

from integrations.dispatcher.domain.deliveries import Delivery, Dispatch, Outcome


class DeliverySummary(BaseModel):
    webhook_id: str
    event_id: str = Field(description="The provider's delivery id, or one chosen by ingress.")
    provider: str
    event_type: str
    received_at: datetime = Field(description="When ingress received the event (UTC).")
    outcome: Outcome = Field(description="Outcome of the latest dispatch.")
    last_dispatched_at: datetime
    request_ids: list[str] = Field(description="Execution requests of the latest dispatch.")
    redeliveries: int = Field(description="How many times it was redelivered on request.")

    @classmethod
    def of(cls, delivery: Delivery) -> Self:
        last = delivery.last_dispatch
        return cls(
            webhook_id=delivery.webhook_id,
            event_id=delivery.event_id,
            provider=delivery.provider,
            event_type=delivery.event_type,
            received_at=delivery.received_at,
            outcome=delivery.outcome,
            last_dispatched_at=last.dispatched_at,
            request_ids=[r.request_id for r in last.requests],
            redeliveries=delivery.redeliveries,
        )


class DeliveryDetail(DeliverySummary):
    dispatches: list[Dispatch] = Field(description="Oldest first; the latest few are kept.")
    redeliverable: bool = Field(description="False when the event was too large to keep.")
    headers: dict[str, str] | None = Field(description="Delivery headers kept by ingress.")
    payload: dict[str, Any] | None = Field(description="The event's body, when kept.")

    @classmethod
    def of(cls, delivery: Delivery) -> Self:
        event = delivery.event
        return cls(
            **DeliverySummary.of(delivery).model_dump(),
            dispatches=list(delivery.dispatches),
            redeliverable=event is not None,
            headers=None if event is None else event.headers,
            payload=None if event is None else event.payload,
        )


class DeliveryPage(BaseModel):
    items: list[DeliverySummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next (older) page.")
