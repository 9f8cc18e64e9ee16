"""Refresh on read (SPEC CM-1) and refresh_if_needed (SPEC CM-3), over in-memory SQLite,
the in-memory bus, a fake provider and a fake clock."""

import asyncio
import dataclasses

import pytest
from pydantic import SecretStr

from integrations.bus import InMemoryBus
from integrations.contracts import CredentialsRefreshed, CredentialsRefreshFailed
from integrations.credentials.domain.credentials import APIKeyCredentials, OAuth2Credentials
from integrations.credentials.domain.errors import CredentialsNotFound
from integrations.credentials.domain.leases import LeaseTimeout, Slot, lease_key
from integrations.credentials.domain.refresh import (
    CredentialsRefreshFailed as RefreshFailedError,
)
from integrations.credentials.domain.refresh import RefreshRejected
from integrations.credentials.domain.stored import StoredCredentials
from integrations.credentials.refresher import RefreshPolicy
from integrations.storage import Database
from tests.unit.credentials.kit import MARK, raw_events
from tests.unit.credentials_refresh.kit import (
    USER,
    FakeClock,
    FakeProvider,
    Replica,
    events,
    expiring,
    replica,
)

pytestmark = pytest.mark.unit


def tokens(stored: StoredCredentials) -> tuple[str, str | None]:
    credentials = stored.credentials
    assert isinstance(credentials, OAuth2Credentials)
    refresh = credentials.refresh_token
    return (
        credentials.access_token.get_secret_value(),
        None if refresh is None else refresh.get_secret_value(),
    )


async def stored(service: Replica, credentials: OAuth2Credentials) -> StoredCredentials:
    return await service.repository.add(USER, credentials)


async def test_an_access_token_expiring_within_five_minutes_is_refreshed_on_read(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """SPEC CM-1."""
    current = await stored(service, expiring(expires_in=299, clock=clock))

    fresh = await service.refresher.ensure_fresh(current)

    assert provider.calls == [f"refresh-0-{MARK}"]
    assert tokens(fresh) == (f"access-1-{MARK}", f"refresh-1-{MARK}")
    reread = await service.repository.get(USER, current.id)
    assert reread is not None
    assert tokens(reread) == tokens(fresh)


@pytest.mark.parametrize("expires_in", [301, 3600])
async def test_an_access_token_with_more_than_five_minutes_left_is_returned_as_is(
    service: Replica, provider: FakeProvider, clock: FakeClock, expires_in: int
) -> None:
    """SPEC CM-1."""
    current = await stored(service, expiring(expires_in=expires_in, clock=clock))

    assert await service.refresher.ensure_fresh(current) is current
    assert provider.calls == []


async def test_credentials_without_expiry_are_returned_as_they_are(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """SPEC CM-1."""
    never = await stored(service, expiring("gh-2", clock=clock, access_token_expires_at=None))
    key = await service.repository.add(
        USER, APIKeyCredentials(id="oa-1", provider="openai", api_key=SecretStr("k"))
    )

    assert await service.refresher.ensure_fresh(never) is never
    assert await service.refresher.ensure_fresh(key) is key
    assert provider.calls == []


async def test_concurrent_readers_in_one_process_share_one_refresh(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """SPEC CM-3: in-process coalescing, 200 readers, one provider call."""
    provider.delay_s = 0.02
    current = await stored(service, expiring(clock=clock))

    results = await asyncio.gather(*(service.refresher.ensure_fresh(current) for _ in range(200)))

    assert len(provider.calls) == 1
    assert {tokens(r) for r in results} == {(f"access-1-{MARK}", f"refresh-1-{MARK}")}


async def test_replicas_refresh_once_and_the_second_rereads_under_the_lease(
    database: Database, bus: InMemoryBus, provider: FakeProvider, clock: FakeClock
) -> None:
    """SPEC CM-3: at most one refresh across replicas; after winning the lease, re-read."""
    provider.delay_s = 0.05
    first, second = (replica(database, bus, provider, clock) for _ in range(2))
    current = await stored(first, expiring(clock=clock))

    one, two = await asyncio.gather(
        first.refresher.ensure_fresh(current), second.refresher.ensure_fresh(current)
    )

    assert len(provider.calls) == 1
    assert tokens(one) == tokens(two) == (f"access-1-{MARK}", f"refresh-1-{MARK}")


async def test_the_old_refresh_token_is_kept_when_the_provider_returns_none(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """SPEC CM-3."""
    provider.rotate = False
    current = await stored(service, expiring(clock=clock))

    fresh = await service.refresher.ensure_fresh(current)

    assert tokens(fresh) == (f"access-1-{MARK}", f"refresh-0-{MARK}")


async def test_a_rotated_refresh_token_survives_a_concurrent_write(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """A write that lands while the provider answers makes ours lose the version race: the
    service re-reads and writes the fresh tokens over it instead of dropping them."""
    current = await stored(service, expiring(clock=clock))

    async def rename() -> None:
        latest = await service.repository.get(USER, current.id)
        assert latest is not None
        renamed = latest.credentials.model_copy(update={"title": "Renamed"})
        assert await service.repository.replace(latest, renamed) is not None

    provider.during_call = rename

    fresh = await service.refresher.ensure_fresh(current)

    assert tokens(fresh) == (f"access-1-{MARK}", f"refresh-1-{MARK}")
    assert fresh.credentials.title == "Renamed"
    reread = await service.repository.get(USER, current.id)
    assert reread is not None
    assert tokens(reread) == tokens(fresh)


async def test_tokens_of_a_reconnect_during_the_refresh_win_over_ours(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """Another grant stored meanwhile (the user connected again) is newer than our refresh
    of the old one: the stored tokens stay."""
    current = await stored(service, expiring(clock=clock))

    async def reconnect() -> None:
        latest = await service.repository.get(USER, current.id)
        assert latest is not None
        regranted = latest.credentials.model_copy(
            update={
                "access_token": SecretStr("access-reconnected"),
                "refresh_token": SecretStr("refresh-reconnected"),
                "access_token_expires_at": int(clock.now + 7200),
            }
        )
        assert await service.repository.replace(latest, regranted) is not None

    provider.during_call = reconnect

    fresh = await service.refresher.ensure_fresh(current)

    assert tokens(fresh) == ("access-reconnected", "refresh-reconnected")


async def test_a_failed_refresh_marks_the_credentials_and_is_announced(
    service: Replica, provider: FakeProvider, clock: FakeClock, bus: InMemoryBus
) -> None:
    """A token that is still valid is returned; the failure is recorded and published."""
    provider.refusal = RefreshRejected(
        "token endpoint answered 400 (invalid_grant)", reauthorize=True
    )
    current = await stored(service, expiring(expires_in=120, clock=clock))

    returned = await service.refresher.ensure_fresh(current)

    assert tokens(returned) == (f"access-0-{MARK}", f"refresh-0-{MARK}")
    assert returned.refresh.failed
    assert returned.refresh.attempts == 1
    assert returned.refresh.last_error == "token endpoint answered 400 (invalid_grant)"
    assert returned.refresh.last_attempt_at == clock.now
    [event] = events(bus)
    assert isinstance(event, CredentialsRefreshFailed)
    assert event.credentials_id == current.id
    assert event.reauthorization_required
    assert not any(MARK.encode() in raw for raw in raw_events(bus))


async def test_an_expired_token_that_cannot_be_refreshed_is_an_error(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    provider.refusal = RefreshRejected("provider unreachable (ConnectError)")
    current = await stored(service, expiring(expires_in=-1, clock=clock))

    with pytest.raises(RefreshFailedError) as raised:
        await service.refresher.ensure_fresh(current)

    assert not raised.value.reauthorize


async def test_after_a_failure_the_provider_is_asked_again_only_after_a_backoff(
    service: Replica, provider: FakeProvider, clock: FakeClock, bus: InMemoryBus
) -> None:
    """Reads of a failing credential do not hammer the provider; success clears the mark."""
    provider.refusal = RefreshRejected("provider unreachable (ReadTimeout)")
    current = await stored(service, expiring(expires_in=200, clock=clock))
    marked = await service.refresher.ensure_fresh(current)

    await service.refresher.ensure_fresh(marked)
    assert len(provider.calls) == 1

    clock.advance(service.refresher.policy.retry.initial_s)
    provider.refusal = None
    fresh = await service.refresher.ensure_fresh(marked)

    assert len(provider.calls) == 2
    assert not fresh.refresh.failed
    assert fresh.refresh.attempts == 0
    assert [type(e) for e in events(bus)] == [CredentialsRefreshFailed, CredentialsRefreshed]


async def test_success_is_announced_with_metadata_only(
    service: Replica, clock: FakeClock, bus: InMemoryBus
) -> None:
    current = await stored(service, expiring(clock=clock))

    fresh = await service.refresher.ensure_fresh(current)

    [event] = events(bus)
    assert isinstance(event, CredentialsRefreshed)
    assert (event.user_id, event.credentials_id, event.provider) == (USER, current.id, "github")
    assert event.expires_at is not None
    assert isinstance(fresh.credentials, OAuth2Credentials)
    assert event.expires_at.timestamp() == fresh.credentials.access_token_expires_at
    assert not any(MARK.encode() in raw for raw in raw_events(bus))


async def test_a_locked_refresh_waits_until_the_credentials_are_not_in_use(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """SPEC CM-3: lock=true waits until the credential is not in use."""
    current = await stored(service, expiring(clock=clock))
    key = lease_key(USER, current.id, Slot.USE)
    in_use = await service.leases.acquire(key, ttl_s=600, purpose="use", own=False)

    refresh = asyncio.create_task(service.refresher.refresh_if_needed(current))
    await asyncio.sleep(0.05)
    assert provider.calls == []

    await service.leases.release(key, in_use.lease_id)
    await asyncio.wait_for(refresh, 5)
    assert len(provider.calls) == 1


async def test_an_unlocked_refresh_does_not_wait_for_the_use_lease(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """SPEC CM-3: lock=false is for the lease holder itself."""
    current = await stored(service, expiring(clock=clock))
    await service.leases.acquire(lease_key(USER, current.id, Slot.USE), ttl_s=60, purpose="use")

    await asyncio.wait_for(service.refresher.refresh_if_needed(current, lock=False), 5)

    assert len(provider.calls) == 1


async def test_a_valid_token_is_served_when_the_credentials_stay_in_use(
    database: Database, bus: InMemoryBus, provider: FakeProvider, clock: FakeClock
) -> None:
    """Waiting for the use lease is bounded: the current token serves while it is valid;
    once expired, the caller hears that the credentials are in use."""
    service = replica(database, bus, provider, clock, policy=RefreshPolicy(wait_s=0.05))
    current = await stored(service, expiring(expires_in=100, clock=clock))
    await service.leases.acquire(lease_key(USER, current.id, Slot.USE), ttl_s=600, purpose="use")

    assert tokens(await service.refresher.ensure_fresh(current)) == tokens(current)

    clock.advance(101)
    with pytest.raises(LeaseTimeout):
        await service.refresher.ensure_fresh(current)
    assert provider.calls == []


async def test_credentials_deleted_before_the_refresh_are_not_found(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    current = await stored(service, expiring(clock=clock))
    await service.repository.delete(USER, current.id)

    with pytest.raises(CredentialsNotFound):
        await service.refresher.ensure_fresh(current)
    assert provider.calls == []


async def test_stopping_lets_a_refresh_in_flight_store_its_tokens(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """Cancelling between the provider's answer and the write would lose a rotated token."""
    provider.delay_s = 0.1
    current = await stored(service, expiring(clock=clock))
    reader = asyncio.create_task(service.refresher.ensure_fresh(current))
    await asyncio.sleep(0.02)

    reader.cancel()  # the reader gives up; the refresh it started does not
    await service.refresher.stop()

    reread = await service.repository.get(USER, current.id)
    assert reread is not None
    assert tokens(reread) == (f"access-1-{MARK}", f"refresh-1-{MARK}")
    assert await service.leases.release_all() == 0  # and its leases went with it


async def test_a_refresh_failure_of_another_credential_is_not_shared(
    service: Replica, provider: FakeProvider, clock: FakeClock
) -> None:
    """Coalescing is per credential."""
    provider.delay_s = 0.01
    one = await stored(service, expiring("gh-1", clock=clock))
    two = await stored(service, expiring("gh-2", clock=clock))

    await asyncio.gather(service.refresher.ensure_fresh(one), service.refresher.ensure_fresh(two))

    assert len(provider.calls) == 2


def test_the_policy_defaults_match_the_spec() -> None:
    """SPEC CM-1: the read margin is five minutes."""
    assert RefreshPolicy().read_margin_s == 300
    assert dataclasses.is_dataclass(RefreshPolicy)
