"""Re-encrypt every stored secret under the primary key, while the service runs.

Per document: read, re-encrypt its `secrets` (ciphertext in, ciphertext out), write with a
versioned replace. A write that loses to a concurrent update re-reads the document and
starts again from what that update wrote, so the update is never lost and its secrets are
rotated too. Documents already under the primary key are not written: running it again
changes nothing (idempotent), and an interrupted run simply continues.
"""

from dataclasses import dataclass, field
from typing import Final

from integrations.credentials.adapters import (
    credentials_repository,
    managed_repository,
    webhook_repository,
)
from integrations.credentials.adapters.scanning import scan_documents
from integrations.credentials.adapters.secrets import SealedFields
from integrations.crypto import Cipher, CryptoError
from integrations.storage import Database, Document, DocumentCollection

# Every collection of this service that holds a `secrets` sub-document.
SEALED_COLLECTIONS: Final = (
    credentials_repository.COLLECTION,
    managed_repository.COLLECTION,
    webhook_repository.COLLECTION,
)


@dataclass
class RotationReport:
    collection: str
    scanned: int = 0
    rotated: int = 0
    # Already under the primary key.
    current: int = 0
    # Version races lost to concurrent writers (each re-read and retried).
    retried: int = 0
    # Deleted while the rotation was running.
    vanished: int = 0
    # `_id`s whose secrets could not be opened (a key id no longer in the ring, tampering):
    # never drop a key from the ring while this is not empty.
    failed: list[str] = field(default_factory=list)


async def rotate_keys(database: Database, cipher: Cipher) -> list[RotationReport]:
    return [
        await rotate_collection(
            database.collection(name), SealedFields(cipher, namespace=name), name=name
        )
        for name in SEALED_COLLECTIONS
    ]


async def rotate_collection(
    collection: DocumentCollection, sealed: SealedFields, *, name: str
) -> RotationReport:
    report = RotationReport(collection=name)
    async for doc in scan_documents(collection):
        report.scanned += 1
        await _rotate_document(collection, sealed, doc, report)
    return report


async def _rotate_document(
    collection: DocumentCollection, sealed: SealedFields, doc: Document, report: RotationReport
) -> None:
    current: Document | None = doc
    while current is not None:
        try:
            rotated = sealed.rotated(current)
        except (CryptoError, ValueError):
            report.failed.append(current["_id"])
            return
        if rotated is None:
            report.current += 1
            return
        if await collection.replace(rotated, expected_version=current["version"]):
            report.rotated += 1
            return
        report.retried += 1
        current = await collection.get(current["_id"])
    report.vanished += 1
