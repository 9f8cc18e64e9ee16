"""The credentials service's composition root."""

import asyncio
import os
from collections.abc import Mapping

import httpx

from integrations.credentials.adapters.credentials_repository import (
    COLLECTION as CREDENTIALS_COLLECTION,
)
from integrations.credentials.adapters.credentials_repository import (
    DocumentCredentialsRepository,
)
from integrations.credentials.adapters.managed_repository import (
    COLLECTION as MANAGED_COLLECTION,
)
from integrations.credentials.adapters.managed_repository import (
    DocumentManagedCredentialsRepository,
)
from integrations.credentials.adapters.token_revoker import ProviderTokenRevoker
from integrations.credentials.config import CredentialsSettings
from integrations.credentials.context import CredentialsContext
from integrations.credentials.domain.system import SystemCredentials
from integrations.credentials.entrypoints import (
    credentials_routes,
    internal_routes,
    managed_routes,
    on_credentials_commands,
    provider_routes,
)
from integrations.credentials.refresh_bootstrap import build_refreshing
from integrations.credentials.webhook_bootstrap import (
    build_managers,
    build_webhooks,
    webhook_state_cipher,
)
from integrations.credentials.webhook_context import WebhookPolicy
from integrations.crypto import Cipher, Purpose
from integrations.oauth_clients import callback_redirect_uri
from integrations.oauth_clients.registry import oauth_registry
from integrations.providers import ProviderRegistry
from integrations.runtime.definition import Dependencies, ServiceDefinition
from integrations.runtime.unit import ServiceUnit

SERVICE_NAME = "credentials"


def load_ciphers(settings: CredentialsSettings) -> tuple[Cipher, Cipher]:
    """(at rest, transport), both derived from the root ring this service alone holds."""
    if settings.encryption_keys is None:
        # Fail at start, not with a 500 on the first credential.
        raise ValueError(
            "credentials needs ENCRYPTION_KEYS, the root key ring "
            "(make one with `integrations keys generate`)"
        )
    ring = settings.encryption_keys.get_secret_value()
    return (
        Cipher.from_key_ring(ring, Purpose.CREDENTIALS),
        Cipher.from_key_ring(ring, Purpose.TRANSPORT),
    )


def build(
    settings: CredentialsSettings,
    deps: Dependencies,
    *,
    env: Mapping[str, str] = os.environ,
    registry: ProviderRegistry | None = None,
    provider_transport: httpx.AsyncBaseTransport | None = None,
) -> ServiceUnit:
    """Keyword arguments are test seams; hosts pass only settings and dependencies."""
    at_rest, transport = load_ciphers(settings)
    # Every OAuth provider's handler attached: refresh and revoke use the provider's own code.
    registry = registry or oauth_registry()
    database = deps.database(settings.database_name)
    repository = DocumentCredentialsRepository(database.collection(CREDENTIALS_COLLECTION), at_rest)
    managed = DocumentManagedCredentialsRepository(database.collection(MANAGED_COLLECTION), at_rest)
    # Built here, used from the first request on, closed when the service stops.
    http = httpx.AsyncClient(transport=provider_transport)
    system = SystemCredentials(env, registry)
    oauth_redirect_uri = callback_redirect_uri(
        settings.frontend_base_url, settings.platform_base_url
    )
    refreshing = build_refreshing(
        settings,
        repository=repository,
        database=database,
        bus=deps.bus,
        registry=registry,
        env=env,
        http=http,
        redirect_uri=oauth_redirect_uri,
        system=system.get,
    )
    webhooks = build_webhooks(
        bus=deps.bus,
        database=database,
        at_rest=at_rest,
        state_cipher=webhook_state_cipher(settings),
        registry=registry,
        managers=build_managers(
            registry, http, options={"github": {"api_url": settings.github_api_url}}
        ),
        credentials=repository,
        freshen=refreshing.refresher.ensure_fresh,
        freshen_held=lambda stored: refreshing.refresher.refresh_if_needed(stored, lock=False),
        platform_base_url=settings.platform_base_url,
        consumer_group=settings.trigger_commands_consumer_group,
        policy=WebhookPolicy(ping_timeout_s=settings.webhook_ping_timeout_s),
    )
    ctx = CredentialsContext(
        repository=repository,
        managed=managed,
        bus=deps.bus,
        system=system,
        registry=registry,
        transport=transport,
        # SPEC CM-1..CM-6: the distributed lease and refresh-on-read (refresh_bootstrap.py).
        locks=refreshing.leases,
        refresher=refreshing.refresher,
        webhooks=webhooks.usage,
        revoker=ProviderTokenRevoker(registry, env, http, redirect_uri=oauth_redirect_uri),
        update_attempts=settings.update_attempts,
    )
    indexes_ready = asyncio.Event()

    async def until_ready() -> None:
        await indexes_ready.wait()

    on_credentials_commands.subscribe(
        deps.bus, ctx, group=settings.commands_consumer_group, until_ready=until_ready
    )

    async def on_start() -> None:
        await repository.ensure_indexes()
        await managed.ensure_indexes()
        indexes_ready.set()
        await webhooks.on_start()
        await refreshing.on_start()

    async def on_stop() -> None:
        await refreshing.on_stop()
        await http.aclose()

    async def database_ready() -> bool:
        await database.ping()
        return True

    return ServiceUnit(
        name=SERVICE_NAME,
        routers=[
            provider_routes.router,
            credentials_routes.build_router(ctx),
            internal_routes.build_router(ctx),
            managed_routes.build_router(ctx),
            *refreshing.routers,
            *webhooks.routers,
        ],
        readiness={"database": database_ready},
        on_start=on_start,
        on_stop=on_stop,
    )


SERVICE = ServiceDefinition(name=SERVICE_NAME, settings_class=CredentialsSettings, build=build)
