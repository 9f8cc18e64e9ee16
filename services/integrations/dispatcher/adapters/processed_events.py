"""Processed-event records over the storage port (MongoDB or the embedded store)."""

from datetime import datetime, timedelta
from typing import Final

from integrations.storage import Document, DocumentCollection, DuplicateKey, IndexSpec

INDEXES: Final = (
    # Clean-up only: MongoDB needs dates for TTL and this port stores epoch seconds, the
    # embedded store never expires, FerretDB has no TTL. `purge_expired` does the real work.
    IndexSpec("expires", (("expires_at", 1),), expire_after_seconds=0),
)


def record_key(webhook_id: str, event_id: str) -> str:
    # Ids never contain whitespace, so the space keeps ("a b", "c") apart from ("a", "b c").
    return f"{webhook_id} {event_id}"


class ProcessedEventsRepository:
    """One document per (webhook, event), unique by `_id`.

    An expired record reads as absent whether or not it was deleted yet, so behaviour does
    not depend on when (or whether) the store cleans up.
    """

    def __init__(self, collection: DocumentCollection, *, retention: timedelta) -> None:
        self._records = collection
        self._retention = retention

    async def ensure_indexes(self) -> None:
        await self._records.ensure_indexes(INDEXES)

    async def contains(self, webhook_id: str, event_id: str, *, now: datetime) -> bool:
        doc = await self._records.get(record_key(webhook_id, event_id))
        return doc is not None and doc["expires_at"] > now.timestamp()

    async def add(self, webhook_id: str, event_id: str, *, now: datetime) -> None:
        doc: Document = {
            "_id": record_key(webhook_id, event_id),
            "webhook_id": webhook_id,
            "event_id": event_id,
            "processed_at": now.timestamp(),
            "expires_at": (now + self._retention).timestamp(),
        }
        try:
            await self._records.insert(doc)
        except DuplicateKey:
            existing = await self._records.get(doc["_id"])
            if existing is None:
                await self._records.insert(doc)  # purged in between: the key is free again
            elif existing["expires_at"] <= doc["processed_at"]:
                # An expired leftover: renew it. Losing this race means another writer
                # renewed it at the same moment, which is as good.
                await self._records.replace(doc, expected_version=existing["version"])

    async def purge_expired(self, *, now: datetime) -> int:
        return await self._records.delete_many({"expires_at": {"$lte": now.timestamp()}})
