"""What the handlers need from the outside: the webhook view and the two stores."""

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from integrations.contracts import WebhookEventReceived, WebhookState
from integrations.dispatcher.domain.deliveries import Delivery, Dispatch, Outcome


class WebhookDirectory(Protocol):
    def get(self, key: str) -> WebhookState | None: ...


class ProcessedEvents(Protocol):
    """Events already dispatched, so a record seen again is not dispatched twice."""

    async def contains(self, webhook_id: str, event_id: str, *, now: datetime) -> bool: ...

    async def add(self, webhook_id: str, event_id: str, *, now: datetime) -> None:
        """Idempotent: adding an event twice (two replicas, a retry) is fine."""
        ...


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    items: tuple[Delivery, ...]
    next_cursor: str | None


class DeliveryLog(Protocol):
    async def record(
        self, event: WebhookEventReceived, dispatch: Dispatch, *, now: datetime
    ) -> None:
        """Append `dispatch` to the event's delivery, creating it on first dispatch."""
        ...

    async def get(
        self, *, user_id: str, webhook_id: str, event_id: str, now: datetime
    ) -> Delivery | None: ...

    async def page(
        self,
        *,
        user_id: str,
        webhook_id: str,
        now: datetime,
        outcome: Outcome | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> DeliveryPage:
        """Newest first (by received time). Raises `ValueError` for a cursor it never issued."""
        ...

    async def any_for(self, *, user_id: str, webhook_id: str, now: datetime) -> bool: ...
