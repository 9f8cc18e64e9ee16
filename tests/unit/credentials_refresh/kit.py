"""Builders shared by the refresh and lease tests: a fake clock, a fake provider, and the
refresh machinery over in-memory SQLite and the in-memory bus."""

import asyncio
from dataclasses import dataclass, field
from typing import Any, Final

from pydantic import SecretStr

from integrations.bus import InMemoryBus
from integrations.contracts import topics
from integrations.contracts.messages.base import Message
from integrations.credentials.adapters.credentials_repository import (
    COLLECTION,
    DocumentCredentialsRepository,
)
from integrations.credentials.adapters.lease_store import COLLECTION as LEASES
from integrations.credentials.adapters.lease_store import LeaseStore, PollPolicy
from integrations.credentials.domain.credentials import OAuth2Credentials
from integrations.credentials.domain.refresh import RefreshRejected
from integrations.credentials.leasing import CredentialLeases, LeasePolicy
from integrations.credentials.refresher import Refresher, RefreshPolicy
from integrations.providers import OAuthTokens
from integrations.storage import Database
from tests.unit.credentials.kit import AT_REST, MARK, published

START: Final = 1_800_000_000.0
USER: Final = "alice"
FAST_POLL: Final = PollPolicy(initial_s=0.002, max_s=0.01, claim_ttl_s=5.0)


@dataclass
class FakeClock:
    """Lease and token times; waiting in the tests stays on the real event loop clock."""

    now: float = START

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def expiring(
    credentials_id: str = "gh-1", *, expires_in: float = 60, clock: FakeClock, **changes: Any
) -> OAuth2Credentials:
    """OAuth2 credentials whose access token expires `expires_in` seconds from now."""
    fields: dict[str, Any] = {
        "id": credentials_id,
        "provider": "github",
        "title": "My GitHub",
        "username": "octocat",
        "access_token": SecretStr(f"access-0-{MARK}"),
        "access_token_expires_at": int(clock.now + expires_in),
        "refresh_token": SecretStr(f"refresh-0-{MARK}"),
        "scopes": ["repo"],
    }
    return OAuth2Credentials(**(fields | changes))


@dataclass
class FakeProvider:
    """`TokenRefresher` standing in for the provider: counts calls, rotates refresh tokens
    (unless `rotate` is off), can be slowed down or made to refuse."""

    clock: FakeClock
    rotate: bool = True
    delay_s: float = 0.0
    refusal: RefreshRejected | None = None
    calls: list[str] = field(default_factory=list)
    # Runs inside the call, between the provider's answer and the service's write.
    during_call: Any = None

    async def refresh(self, credentials: OAuth2Credentials) -> OAuthTokens:
        assert credentials.refresh_token is not None
        self.calls.append(credentials.refresh_token.get_secret_value())
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.during_call is not None:
            await self.during_call()
        if self.refusal is not None:
            raise self.refusal
        n = len(self.calls)
        return OAuthTokens(
            access_token=SecretStr(f"access-{n}-{MARK}"),
            access_token_expires_at=int(self.clock.now + 3600),
            refresh_token=SecretStr(f"refresh-{n}-{MARK}") if self.rotate else None,
        )


@dataclass
class Replica:
    """One credentials replica's refresh machinery over a shared database."""

    repository: DocumentCredentialsRepository
    leases: LeaseStore
    refresher: Refresher
    credential_leases: CredentialLeases


def replica(
    database: Database,
    bus: InMemoryBus,
    provider: FakeProvider,
    clock: FakeClock,
    *,
    policy: RefreshPolicy | None = None,
    lease_policy: LeasePolicy | None = None,
) -> Replica:
    repository = DocumentCredentialsRepository(
        database.collection(COLLECTION), AT_REST, clock=clock
    )
    leases = LeaseStore(database.collection(LEASES), clock=clock, poll=FAST_POLL)
    refresher = Refresher(repository, leases, provider, bus, policy=policy, clock=clock)
    return Replica(
        repository,
        leases,
        refresher,
        CredentialLeases(repository, leases, refresher, system=lambda _: None, policy=lease_policy),
    )


def events(bus: InMemoryBus) -> list[Message]:
    return published(bus, topics.CREDENTIALS_EVENTS)
