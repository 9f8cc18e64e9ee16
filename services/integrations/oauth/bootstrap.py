"""The OAuth service's composition root."""

import os
import time
from collections.abc import Mapping

import httpx

from integrations.crypto import Cipher, Purpose
from integrations.oauth.adapters.ayrshare_client import AyrshareClient
from integrations.oauth.adapters.credentials_writer import BusCredentialsWriter
from integrations.oauth.adapters.handlers import ConfiguredHandlers
from integrations.oauth.adapters.managed_credentials import ManagedCredentialsClient
from integrations.oauth.adapters.state_repository import COLLECTION, DocumentStateRepository
from integrations.oauth.config import OAuthSettings
from integrations.oauth.entrypoints.http import build_router
from integrations.oauth.handlers import Clock, Collaborators
from integrations.oauth_clients import callback_redirect_uri, oauth_registry
from integrations.providers import ProviderRegistry
from integrations.runtime.definition import Dependencies, ServiceDefinition
from integrations.runtime.unit import ServiceUnit

SERVICE_NAME = "oauth"


def build(
    settings: OAuthSettings,
    deps: Dependencies,
    *,
    registry: ProviderRegistry | None = None,
    env: Mapping[str, str] | None = None,
    provider_transport: httpx.AsyncBaseTransport | None = None,
    ayrshare_transport: httpx.AsyncBaseTransport | None = None,
    credentials_transport: httpx.AsyncBaseTransport | None = None,
    clock: Clock = time.time,
) -> ServiceUnit:
    """Keyword arguments are test seams; hosts pass only settings and dependencies."""
    if settings.transport_keys is None:
        # Fail at start, not with a 500 on the first callback.
        raise ValueError("oauth needs TRANSPORT_KEYS (`integrations keys derive transport`)")
    cipher = Cipher.from_key_ring(settings.transport_keys.get_secret_value(), Purpose.TRANSPORT)
    database = deps.database(settings.database_name)
    states = DocumentStateRepository(database.collection(COLLECTION))
    provider_http = httpx.AsyncClient(
        transport=provider_transport, timeout=settings.provider_timeout_s
    )
    internal_http = httpx.AsyncClient(transport=credentials_transport)
    ayrshare_http = httpx.AsyncClient(
        transport=ayrshare_transport, timeout=settings.provider_timeout_s
    )
    collaborators = Collaborators(
        handlers=ConfiguredHandlers(
            registry or oauth_registry(),
            os.environ if env is None else env,
            provider_http,
            redirect_uri=callback_redirect_uri(
                settings.frontend_base_url, settings.platform_base_url
            ),
        ),
        states=states,
        credentials=BusCredentialsWriter(deps.bus, timeout_s=settings.confirmation_timeout_s),
        cipher=cipher,
        managed=ManagedCredentialsClient(
            internal_http,
            base_url=settings.credentials_internal_url,
            service_token=settings.service_token,
            timeout_s=settings.credentials_timeout_s,
        ),
        ayrshare=_ayrshare(settings, ayrshare_http),
        clock=clock,
    )

    async def database_ready() -> bool:
        await database.ping()
        return True

    async def stop() -> None:
        for http in (provider_http, internal_http, ayrshare_http):
            await http.aclose()

    return ServiceUnit(
        name=SERVICE_NAME,
        routers=[build_router(collaborators)],
        readiness={"database": database_ready},
        on_start=states.ensure_indexes,
        on_stop=stop,
    )


def _ayrshare(settings: OAuthSettings, http: httpx.AsyncClient) -> AyrshareClient | None:
    api_key, private_key = settings.ayrshare_api_key, settings.ayrshare_jwt_key
    if api_key is None or private_key is None or not settings.ayrshare_domain:
        return None
    return AyrshareClient(
        http,
        api_key=api_key,
        private_key=private_key,
        domain=settings.ayrshare_domain,
        base_url=settings.ayrshare_base_url,
    )


SERVICE = ServiceDefinition(name=SERVICE_NAME, settings_class=OAuthSettings, build=build)
