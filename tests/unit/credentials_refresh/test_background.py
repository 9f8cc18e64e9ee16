"""The background refresh job: tokens refreshed before they expire, safely on N replicas."""

import asyncio
import random

import pytest

from integrations.bus import InMemoryBus
from integrations.credentials.background import BackgroundPolicy, BackgroundRefresher
from integrations.credentials.domain.credentials import OAuth2Credentials
from integrations.credentials.domain.refresh import RefreshRejected
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

HORIZON = BackgroundPolicy(horizon_s=900, interval_s=0.01, jitter=0.5)


def job(
    service: Replica, clock: FakeClock, policy: BackgroundPolicy = HORIZON
) -> BackgroundRefresher:
    return BackgroundRefresher(
        service.repository, service.refresher, policy=policy, clock=clock, rng=random.Random(7)
    )


async def access_token(service: Replica, credentials_id: str) -> str:
    stored = await service.repository.get(USER, credentials_id)
    assert stored is not None
    assert isinstance(stored.credentials, OAuth2Credentials)
    return stored.credentials.access_token.get_secret_value()


async def test_tokens_expiring_within_the_horizon_are_refreshed_ahead_of_time(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    await service.repository.add(USER, expiring("soon", expires_in=600, clock=clock))
    await service.repository.add(USER, expiring("later", expires_in=3600, clock=clock))
    await service.repository.add(USER, expiring("never", clock=clock, access_token_expires_at=None))

    assert await job(service, clock).run_once() == 1

    assert provider.calls == [f"refresh-0-{MARK}"]
    assert await access_token(service, "soon") == f"access-1-{MARK}"
    assert await access_token(service, "later") == f"access-0-{MARK}"


async def test_replicas_scanning_together_refresh_each_credential_once(
    database: Database, bus: InMemoryBus, provider: FakeProvider, clock: FakeClock
) -> None:
    """Safe with N replicas: the lease and the re-read under it."""
    provider.delay_s = 0.01
    replicas = [replica(database, bus, provider, clock) for _ in range(3)]
    for i in range(5):
        await replicas[0].repository.add(USER, expiring(f"gh-{i}", expires_in=600, clock=clock))

    await asyncio.gather(*(job(r, clock).run_once() for r in replicas))

    assert len(provider.calls) == 5


async def test_a_failing_credential_waits_for_its_backoff(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    provider.refusal = RefreshRejected("provider unreachable (ConnectError)")
    await service.repository.add(USER, expiring(expires_in=600, clock=clock))
    background = job(service, clock)

    await background.run_once()
    assert await background.run_once() == 0
    clock.advance(service.refresher.policy.retry.initial_s)
    assert await background.run_once() == 1

    assert len(provider.calls) == 2


async def test_a_credential_in_use_is_left_for_the_next_scan(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    await service.repository.add(USER, expiring(expires_in=600, clock=clock))
    _, lease = await service.credential_leases.acquire(USER, "gh-1")
    background = job(service, clock, BackgroundPolicy(horizon_s=900, wait_s=0.02))

    await background.run_once()
    assert provider.calls == []

    await service.credential_leases.release(USER, "gh-1", lease.lease_id)
    await background.run_once()
    assert len(provider.calls) == 1


async def test_the_job_runs_every_interval_until_stopped(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    await service.repository.add(USER, expiring(expires_in=600, clock=clock))
    background = job(service, clock)

    background.start()
    for _ in range(200):
        if provider.calls:
            break
        await asyncio.sleep(0.01)
    await background.stop()

    assert len(provider.calls) == 1
