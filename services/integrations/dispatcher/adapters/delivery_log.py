"""The delivery log over the storage port (MongoDB or the embedded store).

Document per (webhook, event): the summary fields it is queried by (all scalar, see
docs/storage.md), the dispatches, and the event itself as JSON text when it is small enough
to keep (text, because payload keys may hold `.` or `$`, which documents may not).
"""

import base64
import binascii
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from integrations.contracts import WebhookEventReceived
from integrations.dispatcher.adapters.processed_events import record_key
from integrations.dispatcher.domain.deliveries import (
    Delivery,
    Dispatch,
    Outcome,
    new_delivery,
)
from integrations.dispatcher.domain.ports import DeliveryPage
from integrations.storage import Document, DocumentCollection, DuplicateKey, IndexSpec, StorageError

INDEXES: Final = (
    IndexSpec("by_webhook", (("webhook_id", 1), ("user_id", 1), ("sort_key", -1))),
    IndexSpec(
        "by_webhook_outcome",
        (("webhook_id", 1), ("user_id", 1), ("outcome", 1), ("sort_key", -1)),
    ),
    IndexSpec("expires", (("expires_at", 1),), expire_after_seconds=0),
)
_WRITE_TRIES: Final = 5


class DeliveryLogRepository:
    def __init__(
        self, collection: DocumentCollection, *, retention: timedelta, max_event_bytes: int
    ) -> None:
        self._deliveries = collection
        self._retention = retention
        self._max_event_bytes = max_event_bytes

    async def ensure_indexes(self) -> None:
        await self._deliveries.ensure_indexes(INDEXES)

    async def record(
        self, event: WebhookEventReceived, dispatch: Dispatch, *, now: datetime
    ) -> None:
        key = record_key(event.webhook_id, event.event_id)
        dumped = event.model_dump_json()
        event_json = dumped if len(dumped.encode()) <= self._max_event_bytes else None
        first = new_delivery(event, dispatch, keep_event=event_json is not None)
        # Insert first: a first dispatch (the common case) costs one round trip.
        try:
            await self._deliveries.insert(self._document(first, now, event_json))
            return
        except DuplicateKey:
            pass
        for _ in range(_WRITE_TRIES):
            doc = await self._deliveries.get(key)
            if doc is None:  # purged in between
                try:
                    await self._deliveries.insert(self._document(first, now, event_json))
                    return
                except DuplicateKey:
                    continue
            # The stored event text goes back as it is: no need to parse it to append.
            delivery = _delivery(doc, with_event=False).with_dispatch(dispatch)
            document = self._document(delivery, now, doc.get("event_json"))
            if await self._deliveries.replace(document, expected_version=doc["version"]):
                return
        raise StorageError(f"delivery {key!r}: too many concurrent writers")

    async def get(
        self, *, user_id: str, webhook_id: str, event_id: str, now: datetime
    ) -> Delivery | None:
        doc = await self._deliveries.get(record_key(webhook_id, event_id))
        if doc is None or doc["user_id"] != user_id or doc["expires_at"] <= now.timestamp():
            return None
        return _delivery(doc)

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
        query: dict[str, Any] = {
            "webhook_id": webhook_id,
            "user_id": user_id,
            "expires_at": {"$gt": now.timestamp()},
        }
        if outcome is not None:
            query["outcome"] = outcome.value
        if cursor is not None:
            query["sort_key"] = {"$lt": _decode_cursor(cursor)}
        # sort_key is unique per webhook, so keyset paging neither skips nor repeats.
        docs = await self._deliveries.find(query, sort=[("sort_key", -1)], limit=limit + 1)
        items = tuple(_delivery(doc) for doc in docs[:limit])
        more = len(docs) > limit
        return DeliveryPage(
            items=items, next_cursor=_encode_cursor(docs[limit - 1]["sort_key"]) if more else None
        )

    async def any_for(self, *, user_id: str, webhook_id: str, now: datetime) -> bool:
        found = await self._deliveries.find(
            {"webhook_id": webhook_id, "user_id": user_id, "expires_at": {"$gt": now.timestamp()}},
            limit=1,
        )
        return bool(found)

    async def purge_expired(self, *, now: datetime) -> int:
        return await self._deliveries.delete_many({"expires_at": {"$lte": now.timestamp()}})

    def _document(self, delivery: Delivery, now: datetime, event_json: str | None) -> Document:
        received = delivery.received_at.timestamp()
        return {
            "_id": record_key(delivery.webhook_id, delivery.event_id),
            "webhook_id": delivery.webhook_id,
            "event_id": delivery.event_id,
            "user_id": delivery.user_id,
            "provider": delivery.provider,
            "event_type": delivery.event_type,
            "received_at": received,
            # Fixed-width microseconds, then the (unique) event id: newest-first order.
            "sort_key": f"{round(received * 1_000_000):017d} {delivery.event_id}",
            "outcome": delivery.outcome.value,
            "redeliveries": delivery.redeliveries,
            "dispatches": [d.model_dump(mode="json") for d in delivery.dispatches],
            "event_json": event_json,
            "updated_at": now.timestamp(),
            # A redelivery keeps the record for another full period.
            "expires_at": (now + self._retention).timestamp(),
        }


def _delivery(doc: Document, *, with_event: bool = True) -> Delivery:
    event_json = doc.get("event_json") if with_event else None
    return Delivery(
        webhook_id=doc["webhook_id"],
        event_id=doc["event_id"],
        user_id=doc["user_id"],
        provider=doc["provider"],
        event_type=doc["event_type"],
        received_at=datetime.fromtimestamp(doc["received_at"], UTC),
        dispatches=tuple(Dispatch.model_validate(d) for d in doc["dispatches"]),
        redeliveries=doc["redeliveries"],
        event=None if event_json is None else WebhookEventReceived.model_validate_json(event_json),
    )


def _encode_cursor(sort_key: str) -> str:
    return base64.urlsafe_b64encode(sort_key.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        decoded = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise ValueError("invalid cursor") from None
    if " " not in decoded or not decoded.split(" ", 1)[0].isdigit():
        raise ValueError("invalid cursor")
    return decoded
