"""Refresh and leases, composed (SPEC CM-1..CM-6): called by `bootstrap.build`, which hands
in what the service already has (settings, repository, database, bus, HTTP client)."""

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx
from fastapi import APIRouter

from integrations.bus import Bus
from integrations.credentials.adapters.lease_store import COLLECTION, LeaseStore
from integrations.credentials.adapters.provider_refresh import ProviderTokenRefresher
from integrations.credentials.background import BackgroundPolicy, BackgroundRefresher
from integrations.credentials.config import CredentialsSettings
from integrations.credentials.domain.ports import CredentialsRepository
from integrations.credentials.domain.refresh import RetryPolicy, TokenRefresher
from integrations.credentials.entrypoints import lease_routes
from integrations.credentials.leasing import CredentialLeases, LeasePolicy, SystemLookup
from integrations.credentials.refresher import Refresher, RefreshPolicy
from integrations.providers import ProviderRegistry
from integrations.storage import Database


@dataclass(frozen=True)
class Refreshing:
    refresher: Refresher
    leases: CredentialLeases
    lease_store: LeaseStore
    background: BackgroundRefresher | None
    routers: list[APIRouter]

    async def on_start(self) -> None:
        if self.background is not None:
            self.background.start()

    async def on_stop(self) -> None:
        """Stop scanning, let refreshes in flight store their tokens, then give back what
        this replica holds (SPEC CM-6)."""
        if self.background is not None:
            await self.background.stop()
        await self.refresher.stop()
        await self.lease_store.release_all()


def build_refreshing(
    settings: CredentialsSettings,
    *,
    repository: CredentialsRepository,
    database: Database,
    bus: Bus,
    registry: ProviderRegistry,
    env: Mapping[str, str],
    http: httpx.AsyncClient,
    redirect_uri: str,
    system: SystemLookup,
    tokens: TokenRefresher | None = None,
    clock: Callable[[], float] = time.time,
) -> Refreshing:
    """`tokens` and `clock` are test seams; the provider HTTP goes through `http`."""
    lease_store = LeaseStore(database.collection(COLLECTION), clock=clock)
    refresher = Refresher(
        repository,
        lease_store,
        tokens
        or ProviderTokenRefresher(
            registry,
            env,
            http,
            redirect_uri=redirect_uri,
            timeout_s=settings.provider_timeout_s,
            clock=clock,
        ),
        bus,
        policy=RefreshPolicy(
            wait_s=settings.refresh_wait_s,
            retry=RetryPolicy(initial_s=settings.refresh_retry_initial_s),
        ),
        clock=clock,
    )
    leases = CredentialLeases(
        repository,
        lease_store,
        refresher,
        system=system,
        policy=LeasePolicy(
            default_ttl_s=settings.lease_ttl_s,
            max_ttl_s=settings.lease_max_ttl_s,
            default_wait_s=settings.lease_wait_s,
        ),
    )
    background = None
    if settings.background_refresh_interval_s > 0:
        background = BackgroundRefresher(
            repository,
            refresher,
            policy=BackgroundPolicy(
                horizon_s=settings.background_refresh_horizon_s,
                interval_s=settings.background_refresh_interval_s,
            ),
            clock=clock,
        )
    return Refreshing(
        refresher=refresher,
        leases=leases,
        lease_store=lease_store,
        background=background,
        routers=[lease_routes.build_router(leases)],
    )
