from collections.abc import AsyncIterator

from integrations.storage import ASCENDING, Document, DocumentCollection

SCAN_BATCH = 200


async def scan_documents(
    collection: DocumentCollection, *, batch: int = SCAN_BATCH
) -> AsyncIterator[Document]:
    """Every document, in `_id` order, a batch at a time.

    Keyset paging (`_id > last`) rather than skip/limit: documents inserted or deleted
    meanwhile never make the scan skip or repeat one that was there all along.
    """
    last: str | None = None
    while True:
        page = await collection.find(
            {} if last is None else {"_id": {"$gt": last}},
            sort=[("_id", ASCENDING)],
            limit=batch,
        )
        for doc in page:
            yield doc
        if len(page) < batch:
            return
        last = page[-1]["_id"]
