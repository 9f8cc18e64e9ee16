"""SPEC CS-7: secrets the platform manages per user (e.g. the Ayrshare profile key), one
document per (user, name), the secret encrypted like any credential's."""

import time
from collections.abc import Callable
from typing import Final

from integrations.credentials.adapters.documents import record_id
from integrations.credentials.adapters.secrets import SECRETS_FIELD, SealedFields
from integrations.crypto import Cipher
from integrations.storage import Document, DocumentCollection, DuplicateKey, IndexSpec

COLLECTION: Final = "managed_credentials"
INDEXES: Final = (IndexSpec("by_user_name", (("user_id", 1), ("name", 1)), unique=True),)
_VALUE: Final = "value"


class DocumentManagedCredentialsRepository:
    def __init__(
        self,
        collection: DocumentCollection,
        cipher: Cipher,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._docs = collection
        self.sealed = SealedFields(cipher, namespace=COLLECTION)
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._docs.ensure_indexes(INDEXES)

    async def get(self, user_id: str, name: str) -> str | None:
        doc = await self._docs.get(record_id(user_id, name))
        if doc is None or doc["user_id"] != user_id:
            return None
        return self.sealed.open(doc)[_VALUE]

    async def put(self, user_id: str, name: str, secret: str) -> None:
        """Insert, or overwrite the current value (last writer wins, none is half-written)."""
        doc_id = record_id(user_id, name)
        while True:
            current = await self._docs.get(doc_id)
            now = self._clock()
            doc: Document = {
                "_id": doc_id,
                "user_id": user_id,
                "name": name,
                SECRETS_FIELD: self.sealed.seal(doc_id, {_VALUE: secret}),
                "created_at": now if current is None else current["created_at"],
                "updated_at": now,
            }
            if current is None:
                try:
                    await self._docs.insert(doc)
                    return
                except DuplicateKey:
                    continue  # created concurrently: overwrite it instead
            if await self._docs.replace(doc, expected_version=current["version"]):
                return

    async def delete(self, user_id: str, name: str) -> bool:
        return await self._docs.delete(record_id(user_id, name))
