"""Smoke tests of the MongoDB-wire test server, and of the behaviour our repositories rely on.

Run against the harness server (FerretDB) by default, or against ``MONGODB_URI``. Where
FerretDB differs from MongoDB (docs/testing-servers.md, "Known gaps"), the test pins each
server's behaviour, so that a FerretDB upgrade that changes it is noticed.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReturnDocument, WriteConcern
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from tests.harness.mongo import MongoWireServer
from tests.harness.mongo_fixtures import MongoWire

pytestmark = pytest.mark.integration

Doc = dict[str, Any]

NOT_IMPLEMENTED = 238
"""FerretDB's error code for an option or operator it does not implement."""


@pytest.fixture
async def client(mongodb_uri: str) -> AsyncIterator[AsyncMongoClient[Doc]]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(
        mongodb_uri, tz_aware=True, serverSelectionTimeoutMS=10_000
    )
    try:
        yield client
    finally:
        await client.close()


@pytest.fixture
async def db(client: AsyncMongoClient[Doc]) -> AsyncIterator[AsyncDatabase[Doc]]:
    """A database of its own for each test, dropped afterwards."""
    name = f"harness_{uuid.uuid4().hex[:12]}"
    try:
        yield client[name]
    finally:
        await client.drop_database(name)


async def test_insert_find_round_trip(db: AsyncDatabase[Doc]) -> None:
    when = datetime(2025, 3, 1, 12, 30, 15, 123000, tzinfo=UTC)
    doc: Doc = {
        "_id": "cred-1",
        "name": "Słack ✓",
        "scopes": ["chat:write", "users:read"],
        "nested": {"n": 1, "f": 1.5, "big": 2**62, "flag": True, "none": None},
        "blob": b"\x00\x01\xff",
        "at": when,
    }
    await db.things.insert_one(doc)

    found = await db.things.find_one({"_id": "cred-1"})
    assert found == doc
    assert await db.things.find_one({"nested.n": 1, "scopes": "users:read"}) is not None
    assert await db.things.find_one({"_id": "other"}) is None


async def test_unique_index_violation_raises_duplicate_key(db: AsyncDatabase[Doc]) -> None:
    await db.users.create_index("email", unique=True)
    await db.users.insert_one({"_id": 1, "email": "a@example.com"})
    await db.users.insert_one({"_id": 2, "email": "b@example.com"})

    with pytest.raises(DuplicateKeyError):
        await db.users.insert_one({"_id": 3, "email": "a@example.com"})
    with pytest.raises(DuplicateKeyError):
        await db.users.insert_one({"_id": 1, "email": "c@example.com"})
    # updates into a duplicate: FerretDB says InternalError here, the harness proxy fixes it
    with pytest.raises(DuplicateKeyError):
        await db.users.update_one({"_id": 2}, {"$set": {"email": "a@example.com"}})
    with pytest.raises(DuplicateKeyError):
        await db.users.replace_one({"_id": 2}, {"email": "a@example.com"})
    with pytest.raises(DuplicateKeyError):
        await db.users.find_one_and_update({"_id": 2}, {"$set": {"email": "a@example.com"}})
    assert await db.users.count_documents({}) == 2


async def test_compound_unique_index(db: AsyncDatabase[Doc]) -> None:
    await db.links.create_index([("webhook_id", ASCENDING), ("trigger_id", ASCENDING)], unique=True)
    await db.links.insert_one({"webhook_id": "w1", "trigger_id": "t1"})
    await db.links.insert_one({"webhook_id": "w1", "trigger_id": "t2"})
    await db.links.insert_one({"webhook_id": "w2", "trigger_id": "t1"})

    with pytest.raises(DuplicateKeyError):
        await db.links.insert_one({"webhook_id": "w1", "trigger_id": "t1"})
    assert await db.links.count_documents({"webhook_id": "w1"}) == 2

    indexes = await db.links.index_information()
    assert indexes["webhook_id_1_trigger_id_1"].get("unique") is True


async def test_find_one_and_update_is_a_compare_and_swap(db: AsyncDatabase[Doc]) -> None:
    coll = db.credentials
    await coll.insert_one({"_id": "c1", "version": 1, "token": "old"})

    updated = await coll.find_one_and_update(
        {"_id": "c1", "version": 1},
        {"$set": {"token": "new"}, "$inc": {"version": 1}},
        return_document=ReturnDocument.AFTER,
    )
    assert updated == {"_id": "c1", "version": 2, "token": "new"}

    stale = await coll.find_one_and_update(
        {"_id": "c1", "version": 1}, {"$set": {"token": "lost"}, "$inc": {"version": 1}}
    )
    assert stale is None
    assert await coll.find_one({"_id": "c1"}) == updated


async def _race_find_one_and_update(coll: AsyncCollection[Doc], doc_id: int, racers: int) -> int:
    async def attempt(who: int) -> Doc | None:
        return await coll.find_one_and_update(
            {"_id": doc_id, "version": 1},
            {"$set": {"owner": who}, "$inc": {"version": 1}},
            return_document=ReturnDocument.AFTER,
        )

    results = await asyncio.gather(*(attempt(who) for who in range(racers)))
    winners = [r for r in results if r is not None]
    final = await coll.find_one({"_id": doc_id})
    assert final is not None
    assert final["version"] == 2
    if winners:
        assert final["owner"] == winners[0]["owner"]
    return len(winners)


async def test_concurrent_updates_with_same_expected_version_one_wins(
    db: AsyncDatabase[Doc],
) -> None:
    """Optimistic concurrency: of N updates expecting version 1, exactly one succeeds.

    Plain FerretDB v1 fails this (it reads, then writes back by _id, with no lock); the
    harness runs one command at a time to give MongoDB's single-document atomicity.
    """
    coll = db.credentials
    await coll.insert_many([{"_id": i, "version": 1} for i in range(20)])
    for doc_id in range(10):
        assert await _race_find_one_and_update(coll, doc_id, racers=2) == 1
    for doc_id in range(10, 20):
        assert await _race_find_one_and_update(coll, doc_id, racers=8) == 1


async def test_replace_one_with_id_and_version_filter(db: AsyncDatabase[Doc]) -> None:
    coll = db.webhooks
    await coll.insert_one({"_id": "w1", "version": 1, "url": "https://a.example"})

    result = await coll.replace_one(
        {"_id": "w1", "version": 1}, {"_id": "w1", "version": 2, "url": "https://b.example"}
    )
    assert (result.matched_count, result.modified_count) == (1, 1)
    stale = await coll.replace_one(
        {"_id": "w1", "version": 1}, {"_id": "w1", "version": 2, "url": "https://c.example"}
    )
    assert (stale.matched_count, stale.modified_count) == (0, 0)
    assert await coll.find_one({"_id": "w1"}) == {
        "_id": "w1",
        "version": 2,
        "url": "https://b.example",
    }

    # concurrent replaces expecting the same version: one wins
    await coll.insert_many([{"_id": i, "version": 1} for i in range(10)])
    for doc_id in range(10):
        results = await asyncio.gather(
            *(
                coll.replace_one({"_id": doc_id, "version": 1}, {"version": 2, "by": who})
                for who in range(4)
            )
        )
        assert sum(r.modified_count for r in results) == 1


async def test_concurrent_inc_loses_no_update(db: AsyncDatabase[Doc]) -> None:
    coll = db.counters
    await coll.insert_one({"_id": "n", "value": 0})
    await asyncio.gather(
        *(coll.update_one({"_id": "n"}, {"$inc": {"value": 1}}) for _ in range(50))
    )
    assert await coll.find_one({"_id": "n"}) == {"_id": "n", "value": 50}


async def test_lease_upsert_conflict_is_duplicate_key(db: AsyncDatabase[Doc]) -> None:
    """A lease taken with an upserting compare-and-swap: the loser gets DuplicateKeyError."""
    leases = db.leases
    now = datetime.now(UTC).replace(microsecond=0)

    async def acquire(owner: str, at: datetime) -> Doc | None:
        return await leases.find_one_and_update(
            {"_id": "cred-1", "$or": [{"expires_at": {"$lt": at}}, {"owner": owner}]},
            {"$set": {"owner": owner, "expires_at": at + timedelta(seconds=30)}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )

    first = await acquire("a", now)
    assert first is not None
    assert first["owner"] == "a"
    with pytest.raises(DuplicateKeyError):
        await acquire("b", now)  # held by a, not expired
    renewed = await acquire("a", now + timedelta(seconds=5))
    assert renewed is not None
    assert renewed["expires_at"] == now + timedelta(seconds=35)
    taken = await acquire("b", now + timedelta(seconds=60))  # expired: b takes it
    assert taken is not None
    assert taken["owner"] == "b"


async def test_sort_limit_in_lt(db: AsyncDatabase[Doc]) -> None:
    coll = db.deliveries
    base = datetime(2025, 1, 1, tzinfo=UTC)
    await coll.insert_many(
        [
            {"_id": i, "webhook": f"w{i % 3}", "attempt": i % 4, "at": base + timedelta(minutes=i)}
            for i in range(12)
        ]
    )
    await coll.create_index([("webhook", ASCENDING), ("at", DESCENDING)])

    newest = [d["_id"] async for d in coll.find({"webhook": "w1"}).sort("at", DESCENDING).limit(2)]
    assert newest == [10, 7]

    ids = [
        d["_id"]
        async for d in coll.find({"webhook": {"$in": ["w0", "w2"]}, "attempt": {"$lt": 2}})
        .sort([("attempt", ASCENDING), ("_id", DESCENDING)])
        .limit(3)
    ]
    assert ids == [8, 0, 9]

    cutoff = base + timedelta(minutes=3)
    assert await coll.count_documents({"at": {"$lt": cutoff}}) == 3
    assert [d["_id"] async for d in coll.find({"at": {"$lt": cutoff}}).sort("_id", 1)] == [0, 1, 2]
    page = [d["_id"] async for d in coll.find({}).sort("_id", ASCENDING).skip(5).limit(3)]
    assert page == [5, 6, 7]


async def test_many_documents_through_get_more(db: AsyncDatabase[Doc]) -> None:
    await db.log.insert_many([{"i": i} for i in range(450)])
    seen = [d["i"] async for d in db.log.find({}, batch_size=100).sort("i", ASCENDING)]
    assert seen == list(range(450))


async def test_unacknowledged_write_keeps_connection_in_sync(db: AsyncDatabase[Doc]) -> None:
    """w=0 sends moreToCome; FerretDB answers anyway, the harness proxy drops that answer."""
    fire_and_forget = db.get_collection("events", write_concern=WriteConcern(w=0))
    for i in range(5):
        await fire_and_forget.insert_one({"i": i})
    for _ in range(100):
        if await db.events.count_documents({}) == 5:
            break
        await asyncio.sleep(0.02)
    assert await db.events.count_documents({}) == 5


# -- known gaps: pinned for FerretDB, expected to work on MongoDB --------------------------


async def test_sparse_unique_index(db: AsyncDatabase[Doc]) -> None:
    coll = db.sparse
    await coll.create_index("external_id", unique=True, sparse=True)
    await coll.insert_many([{"n": 1}, {"n": 2}])  # no external_id: not indexed
    await coll.insert_one({"external_id": "x"})
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"external_id": "x"})


async def test_unique_index_on_missing_field(
    db: AsyncDatabase[Doc], mongo_server: MongoWire
) -> None:
    """MongoDB indexes a missing field as null, so two documents without it collide."""
    coll = db.plain
    await coll.create_index("external_id", unique=True)
    await coll.insert_one({"external_id": None})
    with pytest.raises(DuplicateKeyError):
        await coll.insert_one({"external_id": None})
    await coll.insert_one({"n": 1})  # FerretDB: a second null? no, the field is missing
    if mongo_server.is_ferretdb:
        await coll.insert_one({"n": 2})  # gap: accepted, as if the index were sparse
        assert await coll.count_documents({}) == 3
    else:
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one({"n": 2})


@pytest.mark.parametrize(
    "options",
    [
        pytest.param({"unique": True, "partialFilterExpression": {"active": True}}, id="partial"),
        pytest.param({"expireAfterSeconds": 60}, id="ttl"),
    ],
)
async def test_partial_and_ttl_indexes(
    db: AsyncDatabase[Doc], mongo_server: MongoWire, options: dict[str, Any]
) -> None:
    if mongo_server.is_ferretdb:
        with pytest.raises(OperationFailure) as failure:
            await db.idx.create_index("k", **options)
        assert failure.value.code == NOT_IMPLEMENTED
    else:
        await db.idx.create_index("k", **options)


async def test_transactions(
    client: AsyncMongoClient[Doc], db: AsyncDatabase[Doc], mongo_server: MongoWire
) -> None:
    await db.tx.insert_one({"_id": 0})  # collections must exist before a transaction
    async with client.start_session() as session:
        if mongo_server.is_ferretdb:
            # rejected outright (FailedToParse: unknown field "startTransaction")
            with pytest.raises(OperationFailure):
                async with await session.start_transaction():
                    await db.tx.insert_one({"_id": 1}, session=session)
            assert await db.tx.count_documents({}) == 1
            return
        if not (await client.admin.command("hello")).get("setName"):
            pytest.skip("transactions need a replica set")
        async with await session.start_transaction():
            await db.tx.insert_one({"_id": 1}, session=session)
        assert await db.tx.count_documents({}) == 2


async def test_change_streams(db: AsyncDatabase[Doc], mongo_server: MongoWire) -> None:
    if not mongo_server.is_ferretdb:
        pytest.skip("change streams need a replica set; only FerretDB's gap is pinned here")
    await db.cs.insert_one({"_id": 0})
    with pytest.raises(OperationFailure) as failure:
        await db.cs.watch()
    assert failure.value.code == NOT_IMPLEMENTED


# -- the harness itself -------------------------------------------------------------------


async def _upsert_reconnecting(client: AsyncMongoClient[Doc], doc_id: int) -> None:
    """The server looks standalone, so the driver does not retry writes: after a restart the
    first write on a pooled connection fails with AutoReconnect (as with a standalone MongoDB;
    a replica set client retries once by itself)."""
    for attempt in range(3):
        try:
            await client.app.docs.update_one({"_id": doc_id}, {"$set": {"n": 1}}, upsert=True)
        except AutoReconnect:
            if attempt == 2:
                raise
        else:
            return


async def test_restart_and_kill_keep_port_and_data(mongo_server: MongoWire, tmp_path: Path) -> None:
    """A server of its own, so the session's server stays up for the other tests."""
    if not isinstance(mongo_server, MongoWireServer):
        pytest.skip(f"needs the harness server, not the {mongo_server.description}")
    server = MongoWireServer(tmp_path / "mongo")
    await server.astart()
    try:
        uri = server.uri
        client: AsyncMongoClient[Doc] = AsyncMongoClient(uri, serverSelectionTimeoutMS=10_000)
        try:
            await client.app.docs.insert_one({"_id": 1})
            await server.arestart()
            assert server.uri == uri
            await _upsert_reconnecting(client, 2)  # the same client reconnects

            await server.akill()
            assert not server.is_running
            await server.astart()
            assert server.uri == uri
            assert await client.app.docs.count_documents({}) == 2
        finally:
            await client.close()
    finally:
        await server.astop()
    assert not server.is_running
    assert server.version.startswith("FerretDB 1.24.")
