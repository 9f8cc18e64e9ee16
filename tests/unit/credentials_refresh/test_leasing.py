"""Credentials in use (SPEC CM-2, CM-4, CM-6): acquire, heartbeat, release, and the use
lease that updates and deletes hold, over in-memory SQLite and a fake clock."""

import asyncio

import pytest
from pydantic import SecretStr

from integrations.bus import InMemoryBus
from integrations.credentials.adapters.lease_store import COLLECTION as LEASES
from integrations.credentials.domain.credentials import APIKeyCredentials, OAuth2Credentials
from integrations.credentials.domain.errors import CredentialsNotFound
from integrations.credentials.domain.leases import LeaseLost, LeaseTimeout
from integrations.credentials.leasing import CredentialLeases, LeasePolicy
from integrations.storage import Database
from tests.unit.credentials.kit import MARK
from tests.unit.credentials_refresh.kit import (
    USER,
    FakeClock,
    FakeProvider,
    Replica,
    expiring,
    replica,
)

pytestmark = pytest.mark.unit


async def lease_documents(database: Database) -> list[dict[str, object]]:
    return await database.collection(LEASES).find({})


async def until_a_priority_claim_waits(database: Database) -> None:
    """Timing-proof: the refresh or update has written its claim and now waits."""
    async with asyncio.timeout(5):
        while not any(doc.get("waiters") for doc in await lease_documents(database)):  # noqa: ASYNC110
            await asyncio.sleep(0.005)


async def test_acquire_returns_the_credentials_with_an_exclusive_lease(
    service: Replica, clock: FakeClock
) -> None:
    """SPEC CM-2."""
    await service.repository.add(USER, expiring(expires_in=3600, clock=clock))

    credentials, lease = await service.credential_leases.acquire(USER, "gh-1", ttl_s=30)

    assert credentials.id == "gh-1"
    assert lease.expires_at == clock.now + 30
    with pytest.raises(LeaseTimeout):
        await service.credential_leases.acquire(USER, "gh-1", wait_s=0.05)


async def test_acquire_refreshes_an_expiring_token_under_its_own_lease(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """SPEC CM-2 + CM-1: the acquirer gets a fresh token, and does not wait for itself."""
    await service.repository.add(USER, expiring(expires_in=10, clock=clock))

    credentials, _ = await asyncio.wait_for(service.credential_leases.acquire(USER, "gh-1"), 5)

    assert isinstance(credentials, OAuth2Credentials)
    assert credentials.access_token.get_secret_value() == f"access-1-{MARK}"
    assert len(provider.calls) == 1


async def test_an_unknown_credential_is_not_found_and_leaves_no_lease(
    service: Replica, database: Database, clock: FakeClock
) -> None:
    """SPEC CM-2: unknown credential → not found, and no lock left behind."""
    await service.repository.add("bob", expiring(clock=clock))

    for user, credentials_id in [(USER, "missing"), (USER, "gh-1")]:  # gh-1 is bob's
        with pytest.raises(CredentialsNotFound):
            await service.credential_leases.acquire(user, credentials_id)

    assert await lease_documents(database) == []


async def test_credentials_deleted_while_waiting_are_not_found_and_the_lease_is_given_back(
    service: Replica, database: Database, clock: FakeClock
) -> None:
    """SPEC CM-2: no lock left behind, even when the credential goes while we wait."""
    await service.repository.add(USER, expiring(expires_in=3600, clock=clock))
    _, held = await service.credential_leases.acquire(USER, "gh-1")
    waiting = asyncio.create_task(service.credential_leases.acquire(USER, "gh-1", wait_s=5))
    await asyncio.sleep(0.02)

    await service.repository.delete(USER, "gh-1")
    await service.credential_leases.release(USER, "gh-1", held.lease_id)

    with pytest.raises(CredentialsNotFound):
        await waiting
    assert await lease_documents(database) == []


async def test_a_second_acquirer_waits_until_the_first_releases(
    service: Replica, clock: FakeClock
) -> None:
    """SPEC CM-2."""
    await service.repository.add(USER, expiring(expires_in=3600, clock=clock))
    _, first = await service.credential_leases.acquire(USER, "gh-1")
    second = asyncio.create_task(service.credential_leases.acquire(USER, "gh-1", wait_s=5))
    await asyncio.sleep(0.05)
    assert not second.done()

    assert await service.credential_leases.release(USER, "gh-1", first.lease_id)

    _, lease = await asyncio.wait_for(second, 5)
    assert lease.lease_id != first.lease_id


async def test_waiting_acquirers_queue_behind_a_waiting_refresh(
    service: Replica, provider: FakeProvider, clock: FakeClock, database: Database
) -> None:
    """SPEC CM-2: refreshes have priority over acquirers that wait."""
    await service.repository.add(USER, expiring(expires_in=400, clock=clock))
    _, held = await service.credential_leases.acquire(USER, "gh-1", ttl_s=900)
    order: list[str] = []

    async def refreshing() -> None:
        order.append("refreshing")

    provider.during_call = refreshing

    async def acquire() -> None:
        await service.credential_leases.acquire(USER, "gh-1", wait_s=5)
        order.append("acquired")

    acquirer = asyncio.create_task(acquire())
    await asyncio.sleep(0.02)  # the acquirer has been waiting longer
    clock.advance(150)  # now the token expires within five minutes
    stored = await service.repository.get(USER, "gh-1")
    assert stored is not None
    refresh = asyncio.create_task(service.refresher.refresh_if_needed(stored))
    await until_a_priority_claim_waits(database)
    assert order == []

    await service.credential_leases.release(USER, "gh-1", held.lease_id)
    await asyncio.wait_for(asyncio.gather(refresh, acquirer), 5)

    assert order == ["refreshing", "acquired"]
    assert len(provider.calls) == 1


async def test_updates_take_the_lease_with_priority_over_waiting_acquirers(
    service: Replica, clock: FakeClock, database: Database
) -> None:
    """SPEC CM-4: update and delete take the credential's lock; CM-2: they go first."""
    await service.repository.add(USER, expiring(expires_in=3600, clock=clock))
    _, held = await service.credential_leases.acquire(USER, "gh-1")
    order: list[str] = []

    async def acquire() -> None:
        await service.credential_leases.acquire(USER, "gh-1", wait_s=5)
        order.append("acquired")

    async def update() -> None:
        async with service.credential_leases.exclusive(USER, "gh-1"):
            order.append("updating")
            await asyncio.sleep(0.02)

    acquirer = asyncio.create_task(acquire())
    await asyncio.sleep(0.02)
    updater = asyncio.create_task(update())
    await until_a_priority_claim_waits(database)
    assert order == []  # both wait for the holder

    await service.credential_leases.release(USER, "gh-1", held.lease_id)
    await asyncio.wait_for(asyncio.gather(acquirer, updater), 5)

    assert order == ["updating", "acquired"]


async def test_heartbeats_extend_a_lease_and_a_lapsed_one_is_lost(
    service: Replica, clock: FakeClock
) -> None:
    """SPEC CM-2 (TTL + heartbeat), CM-6 (locks expire by themselves)."""
    await service.repository.add(USER, expiring(expires_in=3600, clock=clock))
    _, lease = await service.credential_leases.acquire(USER, "gh-1", ttl_s=30)

    clock.advance(20)
    renewed = await service.credential_leases.heartbeat(USER, "gh-1", lease.lease_id, ttl_s=30)
    assert renewed.expires_at == clock.now + 30

    clock.advance(31)
    with pytest.raises(LeaseLost):
        await service.credential_leases.heartbeat(USER, "gh-1", lease.lease_id)
    _, next_lease = await service.credential_leases.acquire(USER, "gh-1", wait_s=0)
    assert next_lease.lease_id != lease.lease_id


async def test_leases_are_capped_at_the_policy_maximum(
    database: Database, bus: InMemoryBus, provider: FakeProvider, clock: FakeClock
) -> None:
    service = replica(database, bus, provider, clock, lease_policy=LeasePolicy(max_ttl_s=120))
    await service.repository.add(USER, expiring(expires_in=3600, clock=clock))

    _, lease = await service.credential_leases.acquire(USER, "gh-1", ttl_s=3600)

    assert lease.expires_at == clock.now + 120


async def test_system_credentials_can_be_acquired_too(service: Replica) -> None:
    """The executor acquires every credentials input; the platform's own keys included."""
    system = APIKeyCredentials(id="sys-openai", provider="openai", api_key=SecretStr("sk"))
    leases = CredentialLeases(
        service.repository,
        service.leases,
        service.refresher,
        system=lambda i: system if i == system.id else None,
    )

    credentials, lease = await leases.acquire(USER, "sys-openai")

    assert credentials == system
    assert await leases.release(USER, "sys-openai", lease.lease_id)
