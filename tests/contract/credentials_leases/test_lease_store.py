"""The lease store's contract (SPEC CM-2, CM-6), run against every storage adapter: the
embedded SQLite store and a real MongoDB-wire server. Two `LeaseStore`s over two separate
connections stand for two replicas; lease times come from a fake clock, waiting is real."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from integrations.credentials.adapters.lease_store import COLLECTION, LeaseStore, PollPolicy
from integrations.credentials.domain.leases import LeaseLost, LeaseTimeout
from integrations.storage import Database, Document, DocumentCollection, open_database
from tests.unit.credentials_refresh.kit import FakeClock

pytestmark = pytest.mark.contract

KEY = "alice/gh-1#use"
POLL = PollPolicy(initial_s=0.005, max_s=0.02, claim_ttl_s=5.0)


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/leases.db", "leases"
        return
    uri: str = request.getfixturevalue("mongodb_uri")
    name = f"leases_{uuid.uuid4().hex[:12]}"
    yield uri, name
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
    with client:
        client.drop_database(name)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@dataclass
class Replicas:
    """Each `new()`: another replica's lease store, over its own connection."""

    url: str
    name: str
    clock: FakeClock
    opened: list[Database] = field(default_factory=list)

    async def new(self) -> LeaseStore:
        return LeaseStore(await self._collection(), clock=self.clock, poll=POLL)

    async def documents(self) -> list[Document]:
        return await (await self._collection()).find({})

    async def write_claim(self, key: str, waiter: str, until: float) -> None:
        """What a priority waiter that crashed mid-wait leaves behind."""
        docs = await self._collection()
        doc = await docs.get(key)
        assert doc is not None
        doc["waiters"] = {waiter: until}
        assert await docs.replace(doc, expected_version=doc["version"])

    async def _collection(self) -> DocumentCollection:
        database = open_database(self.url, name=self.name)
        self.opened.append(database)
        # Connected one at a time: SQLite's first switch to WAL does not wait for a peer.
        await database.ping()
        return database.collection(COLLECTION)


@pytest.fixture
async def replicas(database_url: tuple[str, str], clock: FakeClock) -> AsyncIterator[Replicas]:
    replicas = Replicas(*database_url, clock)
    yield replicas
    for database in replicas.opened:
        await database.close()


async def test_a_free_lease_is_taken_and_released_without_a_trace(
    replicas: Replicas, clock: FakeClock
) -> None:
    """SPEC CM-2."""
    store = await replicas.new()

    lease = await store.acquire(KEY, ttl_s=30, purpose="use")

    assert lease.expires_at == clock.now + 30
    assert await store.release(KEY, lease.lease_id)
    assert await replicas.documents() == []


async def test_a_second_acquirer_on_another_replica_waits_until_release(
    replicas: Replicas,
) -> None:
    """SPEC CM-2: exclusive system-wide."""
    first, second = await replicas.new(), await replicas.new()
    held = await first.acquire(KEY, ttl_s=30, purpose="use")

    waiting = asyncio.create_task(second.acquire(KEY, ttl_s=30, purpose="use", timeout_s=10))
    await asyncio.sleep(0.1)
    assert not waiting.done()

    await first.release(KEY, held.lease_id)
    taken = await asyncio.wait_for(waiting, 5)
    assert taken.lease_id != held.lease_id


async def test_an_acquirer_that_gives_up_leaves_the_lease_as_it_was(
    replicas: Replicas,
) -> None:
    store = await replicas.new()
    held = await store.acquire(KEY, ttl_s=30, purpose="use")

    with pytest.raises(LeaseTimeout):
        await (await replicas.new()).acquire(
            KEY, ttl_s=30, purpose="use", priority=True, timeout_s=0.05
        )

    [doc] = await replicas.documents()
    assert doc["holder"] == held.lease_id
    assert doc["waiters"] == {}  # the priority claim was withdrawn


async def test_a_crashed_holders_lease_expires(replicas: Replicas, clock: FakeClock) -> None:
    """SPEC CM-6: a holder that stops heartbeating never blocks forever."""
    crashed = await (await replicas.new()).acquire(KEY, ttl_s=30, purpose="use")
    survivor = await replicas.new()
    waiting = asyncio.create_task(survivor.acquire(KEY, ttl_s=30, purpose="use", timeout_s=10))
    await asyncio.sleep(0.05)
    assert not waiting.done()

    clock.advance(31)

    taken = await asyncio.wait_for(waiting, 5)
    assert taken.lease_id != crashed.lease_id
    with pytest.raises(LeaseLost):
        await survivor.heartbeat(KEY, crashed.lease_id, ttl_s=30)


async def test_heartbeats_keep_a_lease_past_its_first_ttl(
    replicas: Replicas, clock: FakeClock
) -> None:
    """SPEC CM-2: TTL + heartbeat."""
    store, other = await replicas.new(), await replicas.new()
    lease = await store.acquire(KEY, ttl_s=30, purpose="use")
    clock.advance(20)

    renewed = await other.heartbeat(KEY, lease.lease_id, ttl_s=30)  # any replica serves it
    clock.advance(20)

    assert renewed.expires_at == clock.now + 10
    with pytest.raises(LeaseTimeout):
        await other.acquire(KEY, ttl_s=30, purpose="use", timeout_s=0.05)


async def test_a_lapsed_or_released_lease_cannot_be_heartbeated(
    replicas: Replicas, clock: FakeClock
) -> None:
    store = await replicas.new()
    lapsed = await store.acquire(KEY, ttl_s=30, purpose="use")
    clock.advance(30)
    with pytest.raises(LeaseLost):
        await store.heartbeat(KEY, lapsed.lease_id, ttl_s=30)

    released = await store.acquire(KEY, ttl_s=30, purpose="use")
    await store.release(KEY, released.lease_id)
    with pytest.raises(LeaseLost):
        await store.heartbeat(KEY, released.lease_id, ttl_s=30)


async def test_release_is_idempotent_and_only_for_the_holder(
    replicas: Replicas,
) -> None:
    store = await replicas.new()
    lease = await store.acquire(KEY, ttl_s=30, purpose="use")

    assert not await store.release(KEY, "someone-else")
    assert await store.release(KEY, lease.lease_id)
    assert not await store.release(KEY, lease.lease_id)


async def test_of_many_concurrent_acquirers_on_two_replicas_exactly_one_wins(
    replicas: Replicas,
) -> None:
    """SPEC CM-2: the compare-and-swap admits one holder, whatever the interleaving."""
    stores = [await replicas.new(), await replicas.new()]

    async def attempt(i: int) -> bool:
        try:
            await stores[i % 2].acquire(KEY, ttl_s=30, purpose="use", timeout_s=0.2)
        except LeaseTimeout:
            return False
        return True

    results = await asyncio.gather(*(attempt(i) for i in range(16)))

    assert sum(results) == 1


async def test_waiting_refreshes_and_updates_go_before_waiting_acquirers(
    replicas: Replicas,
) -> None:
    """SPEC CM-2: waiting acquirers queue behind refreshes and updates (priority)."""
    holder, plain_replica, priority_replica = (
        await replicas.new(),
        await replicas.new(),
        await replicas.new(),
    )
    held = await holder.acquire(KEY, ttl_s=30, purpose="use")
    order: list[str] = []

    async def take(store: LeaseStore, name: str, priority: bool) -> None:
        lease = await store.acquire(KEY, ttl_s=30, purpose=name, priority=priority, timeout_s=10)
        order.append(name)
        await asyncio.sleep(0.05)
        await store.release(KEY, lease.lease_id)

    plain = asyncio.create_task(take(plain_replica, "use", False))
    await asyncio.sleep(0.05)  # the plain acquirer has been waiting longer
    refresh = asyncio.create_task(take(priority_replica, "refresh", True))
    async with asyncio.timeout(5):  # until the refresh's claim is written: it waits now
        while not (await replicas.documents())[0]["waiters"]:  # noqa: ASYNC110 - polls a store
            await asyncio.sleep(0.005)
    await holder.release(KEY, held.lease_id)
    await asyncio.wait_for(asyncio.gather(plain, refresh), 5)

    assert order == ["refresh", "use"]


async def test_a_crashed_priority_waiter_stops_blocking_acquirers(
    replicas: Replicas, clock: FakeClock
) -> None:
    """SPEC CM-6: a priority claim expires like a lease does."""
    store = await replicas.new()
    held = await store.acquire(KEY, ttl_s=30, purpose="use")
    await replicas.write_claim(KEY, "crashed-updater", until=clock.now + POLL.claim_ttl_s)
    await store.release(KEY, held.lease_id)

    with pytest.raises(LeaseTimeout):
        await (await replicas.new()).acquire(KEY, ttl_s=30, purpose="use", timeout_s=0.1)
    clock.advance(POLL.claim_ttl_s + 1)
    await (await replicas.new()).acquire(KEY, ttl_s=30, purpose="use", timeout_s=2)


async def test_release_all_gives_back_own_leases_and_leaves_client_leases(
    replicas: Replicas,
) -> None:
    """SPEC CM-6: release_all_locks on shutdown. Client leases (`own=False`) belong to the
    client, which heartbeats them through any replica, so a stopping replica keeps off."""
    store = await replicas.new()
    await store.acquire("alice/a#refresh", ttl_s=30, purpose="refresh")
    await store.acquire("alice/b#use", ttl_s=30, purpose="update")
    client = await store.acquire("alice/c#use", ttl_s=30, purpose="use", own=False)

    assert await store.release_all() == 2

    [doc] = await replicas.documents()
    assert doc["_id"] == "alice/c#use"
    assert doc["holder"] == client.lease_id


async def test_holding_heartbeats_a_lease_for_as_long_as_the_block_runs(
    replicas: Replicas, clock: FakeClock
) -> None:
    """The service's own leases (refreshes, updates) outlive a slow block, and go with it."""
    store = await replicas.new()
    async with store.holding(KEY, ttl_s=0.3, purpose="refresh") as lease:
        for _ in range(4):  # 0.8 s of lease time: well past the first TTL
            clock.advance(0.2)
            await asyncio.sleep(0.15)
        [doc] = await replicas.documents()
        assert doc["holder"] == lease.lease_id
        assert doc["expires_at"] > clock.now

    assert await replicas.documents() == []
