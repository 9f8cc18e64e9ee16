"""`WebhookRepository` over the document-collection port (MongoDB or the embedded store).

Concurrent activations of one auto webhook meet at the `by_dedupe_key` unique index: of N
inserts with the same key exactly one succeeds, the others get `DuplicateWebhook` and link
to the winner. Every document sets `dedupe_key` (a missing field would slip through the
test server's unique index, docs/testing-servers.md).
"""

import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Final

from integrations.credentials.adapters.scanning import scan_documents
from integrations.credentials.adapters.secrets import SealedFields
from integrations.credentials.adapters.webhook_documents import from_document, to_document
from integrations.credentials.domain.webhook_ports import DuplicateWebhook
from integrations.credentials.domain.webhooks import Webhook
from integrations.crypto import Cipher
from integrations.storage import ASCENDING, DocumentCollection, DuplicateKey, IndexSpec, Sort

COLLECTION: Final = "webhooks"
INDEXES: Final = (
    IndexSpec("by_dedupe_key", (("dedupe_key", 1),), unique=True),
    IndexSpec("by_user", (("user_id", 1), ("created_at", 1))),
    IndexSpec("by_user_credentials", (("user_id", 1), ("credentials_id", 1))),
)
_ORDER: Final[Sort] = (("created_at", ASCENDING), ("_id", ASCENDING))


class DocumentWebhookRepository:
    def __init__(
        self,
        collection: DocumentCollection,
        cipher: Cipher,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._docs = collection
        # At rest the secret is under the `credentials` purpose key, bound to this record.
        self._sealed = SealedFields(cipher, namespace=COLLECTION)
        self._clock = clock

    async def ensure_indexes(self) -> None:
        await self._docs.ensure_indexes(INDEXES)

    async def add(self, webhook: Webhook) -> None:
        try:
            await self._docs.insert(to_document(webhook, self._sealed))
        except DuplicateKey:
            raise DuplicateWebhook(webhook.dedupe_key) from None

    async def get(self, webhook_id: str) -> Webhook | None:
        doc = await self._docs.get(webhook_id)
        return None if doc is None else from_document(doc, self._sealed)

    async def get_for_user(self, user_id: str, webhook_id: str) -> Webhook | None:
        webhook = await self.get(webhook_id)
        return webhook if webhook is not None and webhook.user_id == user_id else None

    async def by_dedupe_key(self, dedupe_key: str) -> Webhook | None:
        doc = await self._docs.find_one({"dedupe_key": dedupe_key})
        return None if doc is None else from_document(doc, self._sealed)

    async def for_user(self, user_id: str) -> list[Webhook]:
        docs = await self._docs.find({"user_id": user_id}, sort=_ORDER)
        return [from_document(doc, self._sealed) for doc in docs]

    async def for_credentials(self, user_id: str, credentials_id: str) -> list[Webhook]:
        docs = await self._docs.find(
            {"user_id": user_id, "credentials_id": credentials_id}, sort=_ORDER
        )
        return [from_document(doc, self._sealed) for doc in docs]

    async def save(self, webhook: Webhook) -> Webhook | None:
        saved = replace(webhook, version=webhook.version + 1, updated_at=self._clock())
        written = await self._docs.replace(
            to_document(saved, self._sealed), expected_version=webhook.version
        )
        return saved if written else None

    async def remove(self, webhook: Webhook) -> bool:
        return await self._docs.delete(webhook.id, expected_version=webhook.version)

    async def scan(self) -> AsyncIterator[Webhook]:
        async for doc in scan_documents(self._docs):
            yield from_document(doc, self._sealed)
