"""Credentials in use (SPEC CM-2, CM-4, CM-6): the exclusive use lease other services take
through the internal API, and the same lease held by updates and deletes.

Updates and deletes wait with priority, as locked refreshes do (`refresher.py`): while one
of them waits, a new acquirer waits behind it (see `domain/leases.py`).
"""

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from integrations.credentials.adapters.lease_store import LeaseStore
from integrations.credentials.domain.credentials import Credentials
from integrations.credentials.domain.errors import CredentialsNotFound
from integrations.credentials.domain.leases import Lease, Slot, lease_key
from integrations.credentials.domain.ports import CredentialsRepository
from integrations.credentials.refresher import Refresher

SystemLookup = Callable[[str], Credentials | None]


@dataclass(frozen=True, slots=True)
class LeasePolicy:
    default_ttl_s: float = 60.0
    max_ttl_s: float = 900.0
    default_wait_s: float = 10.0
    max_wait_s: float = 60.0
    # Updates and deletes: how long they wait for the credential, and their lease's TTL
    # (heartbeated while they run, so only a crash lets it lapse).
    change_wait_s: float = 30.0
    change_ttl_s: float = 30.0

    def ttl(self, asked: float | None) -> float:
        return min(self.max_ttl_s, self.default_ttl_s if asked is None else asked)

    def wait(self, asked: float | None) -> float:
        return min(self.max_wait_s, self.default_wait_s if asked is None else asked)


class CredentialLeases:
    def __init__(
        self,
        repository: CredentialsRepository,
        leases: LeaseStore,
        refresher: Refresher,
        *,
        system: SystemLookup,
        policy: LeasePolicy | None = None,
    ) -> None:
        self._repository = repository
        self._leases = leases
        self._refresher = refresher
        self._system = system
        self.policy = policy or LeasePolicy()

    async def acquire(
        self,
        user_id: str,
        credentials_id: str,
        *,
        ttl_s: float | None = None,
        wait_s: float | None = None,
    ) -> tuple[Credentials, Lease]:
        """SPEC CM-2: the credential, fresh, with an exclusive lease on it.

        `LeaseTimeout` when it stays in use longer than `wait_s`; `CredentialsNotFound` for
        an unknown (or another user's) credential, with no lease left behind.
        """
        system = self._system(credentials_id)
        # Checked first so an unknown id never waits behind anyone, nor writes a lease.
        if system is None and await self._repository.get(user_id, credentials_id) is None:
            raise CredentialsNotFound()
        key = lease_key(user_id, credentials_id, Slot.USE)
        lease = await self._leases.acquire(
            key,
            ttl_s=self.policy.ttl(ttl_s),
            purpose="use",
            timeout_s=self.policy.wait(wait_s),
            own=False,
        )
        try:
            if system is not None:
                return system, lease
            # Read again under the lease: it may have changed (or gone) while we waited.
            stored = await self._repository.get(user_id, credentials_id)
            if stored is None:
                raise CredentialsNotFound()
            # We hold the use lease: refresh without waiting for it (that would be for us).
            fresh = await self._refresher.refresh_if_needed(stored, lock=False)
            return fresh.credentials, lease
        except BaseException:
            await self._leases.release(key, lease.lease_id)
            raise

    async def heartbeat(
        self, user_id: str, credentials_id: str, lease_id: str, *, ttl_s: float | None = None
    ) -> Lease:
        """`LeaseLost` when the lease expired or was released."""
        key = lease_key(user_id, credentials_id, Slot.USE)
        return await self._leases.heartbeat(key, lease_id, ttl_s=self.policy.ttl(ttl_s))

    async def release(self, user_id: str, credentials_id: str, lease_id: str) -> bool:
        return await self._leases.release(lease_key(user_id, credentials_id, Slot.USE), lease_id)

    @asynccontextmanager
    async def exclusive(self, user_id: str, credentials_id: str) -> AsyncIterator[None]:
        """`CredentialLocks` (SPEC CM-4): updates and deletes hold the use lease, with
        priority over waiting acquirers."""
        async with self._leases.holding(
            lease_key(user_id, credentials_id, Slot.USE),
            ttl_s=self.policy.change_ttl_s,
            purpose="update",
            priority=True,
            timeout_s=self.policy.change_wait_s,
        ):
            yield
