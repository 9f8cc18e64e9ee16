"""The registry's OAuth handlers, built with this deployment's OAuth apps (SPEC CM-7)."""

from collections.abc import Mapping

import httpx

from integrations.oauth.domain.errors import OAuthNotAvailable, OAuthNotConfigured
from integrations.oauth_clients import OAuthNotSupported, create_handler
from integrations.providers import OAuthHandler, ProviderNotConfigured, ProviderRegistry


class ConfiguredHandlers:
    def __init__(
        self,
        registry: ProviderRegistry,
        env: Mapping[str, str],
        http: httpx.AsyncClient,
        *,
        redirect_uri: str,
    ) -> None:
        self._registry = registry
        self._env = env
        self._http = http
        self._redirect_uri = redirect_uri

    def handler(self, provider: str) -> OAuthHandler:
        # Built per request: the client id/secret are read when used, so an operator who
        # sets them need not restart anything but the environment's consumer.
        try:
            return create_handler(
                self._registry,
                provider,
                env=self._env,
                http=self._http,
                redirect_uri=self._redirect_uri,
            )
        except OAuthNotSupported as error:
            raise OAuthNotAvailable(str(error)) from None
        except ProviderNotConfigured as error:
            raise OAuthNotConfigured(str(error)) from None
