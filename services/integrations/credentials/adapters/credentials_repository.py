"""`CredentialsRepository` over the document-collection port (MongoDB or the embedded
store); the layout is in `documents.py`, the encryption in `secrets.py`."""

import time
from collections.abc import AsyncIterator, Callable
from typing import Final

from integrations.credentials.adapters.documents import from_document, record_id, to_document
from integrations.credentials.adapters.scanning import scan_documents
from integrations.credentials.adapters.secrets import SealedFields
from integrations.credentials.domain.credentials import Credentials
from integrations.credentials.domain.ports import CredentialsAlreadyExist
from integrations.credentials.domain.stored import RefreshState, StoredCredentials
from integrations.crypto import Cipher
from integrations.storage import (
    ASCENDING,
    FIRST_VERSION,
    DocumentCollection,
    DuplicateKey,
    IndexSpec,
)

COLLECTION: Final = "credentials"
INDEXES: Final = (
    # `_id` already derives from both; the index states the rule wherever data comes from.
    IndexSpec("by_user_id", (("user_id", 1), ("credentials_id", 1)), unique=True),
    IndexSpec("by_user_provider", (("user_id", 1), ("provider", 1))),
    IndexSpec("expiring", (("type", 1), ("access_token_expires_at", 1))),
)


class DocumentCredentialsRepository:
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

    async def add(
        self, user_id: str, credentials: Credentials, *, managed: bool = False
    ) -> StoredCredentials:
        now = self._clock()
        stored = StoredCredentials(
            user_id=user_id,
            credentials=credentials,
            version=FIRST_VERSION,
            created_at=now,
            updated_at=now,
            managed=managed,
        )
        try:
            await self._docs.insert(to_document(stored, self.sealed))
        except DuplicateKey:
            raise CredentialsAlreadyExist(credentials.id) from None
        return stored

    async def get(self, user_id: str, credentials_id: str) -> StoredCredentials | None:
        doc = await self._docs.get(record_id(user_id, credentials_id))
        # The owner check repeats what `_id` already implies: cheap insurance.
        if doc is None or doc["user_id"] != user_id:
            return None
        return from_document(doc, self.sealed)

    async def for_user(
        self, user_id: str, *, provider: str | None = None
    ) -> list[StoredCredentials]:
        query = {"user_id": user_id} | ({"provider": provider} if provider else {})
        docs = await self._docs.find(query, sort=[("created_at", ASCENDING), ("_id", ASCENDING)])
        return [from_document(doc, self.sealed) for doc in docs]

    async def replace(
        self,
        current: StoredCredentials,
        credentials: Credentials,
        *,
        refresh: RefreshState | None = None,
    ) -> StoredCredentials | None:
        if credentials.id != current.id:
            raise ValueError("replace keeps the credential id")
        updated = StoredCredentials(
            user_id=current.user_id,
            credentials=credentials,
            version=current.version + 1,
            created_at=current.created_at,
            updated_at=self._clock(),
            refresh=current.refresh if refresh is None else refresh,
            managed=current.managed,
        )
        written = await self._docs.replace(
            to_document(updated, self.sealed), expected_version=current.version
        )
        return updated if written else None

    async def delete(self, user_id: str, credentials_id: str) -> bool:
        return await self._docs.delete(record_id(user_id, credentials_id))

    async def expiring_before(self, epoch_seconds: float, *, limit: int) -> list[StoredCredentials]:
        docs = await self._docs.find(
            {
                "type": "oauth2",
                "access_token_expires_at": {"$lt": epoch_seconds},
                "secrets.refresh_token": {"$exists": True},
            },
            sort=[("access_token_expires_at", ASCENDING), ("_id", ASCENDING)],
            limit=limit,
        )
        return [from_document(doc, self.sealed) for doc in docs]

    async def scan(self) -> AsyncIterator[StoredCredentials]:
        async for doc in scan_documents(self._docs):
            yield from_document(doc, self.sealed)
