"""`TokenRefresher` against the providers: the registered `OAuthHandler` when the registry
has one for the provider, else the standard refresh grant (`refresh_grant.py`).

Every failure becomes `RefreshRejected` with a reason fit for logs and events: the type of
a transport error, the OAuth error code of a refusal, never a response body or a token.
"""

import logging
import time
from collections.abc import Callable, Mapping

import httpx

from integrations.credentials.adapters.refresh_grant import refresh_grant
from integrations.credentials.domain.credentials import OAuth2Credentials
from integrations.credentials.domain.refresh import RefreshRejected, tokens_of
from integrations.oauth_clients.errors import ProviderUnavailable
from integrations.providers import (
    OAuthFlowError,
    OAuthTokens,
    ProviderError,
    ProviderNotConfigured,
    ProviderRegistry,
)

log = logging.getLogger(__name__)


class ProviderTokenRefresher:
    def __init__(
        self,
        registry: ProviderRegistry,
        env: Mapping[str, str],
        http: httpx.AsyncClient,
        *,
        redirect_uri: str,
        timeout_s: float = 10.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._registry = registry
        self._env = env
        self._http = http
        self._redirect_uri = redirect_uri
        self._timeout_s = timeout_s
        self._clock = clock

    async def refresh(self, credentials: OAuth2Credentials) -> OAuthTokens:
        provider = credentials.provider
        config = self._registry.oauth_config(provider)
        if config is None or credentials.refresh_token is None:
            raise RefreshRejected(f"provider {provider!r} offers no token refresh")
        try:
            client = config.client_from_env(provider, self._env, redirect_uri=self._redirect_uri)
        except ProviderNotConfigured as error:
            raise RefreshRejected(str(error)) from None
        handler_class = self._registry.oauth_handler(provider)
        try:
            if handler_class is None:
                return await refresh_grant(
                    config,
                    client,
                    self._http,
                    credentials.refresh_token.get_secret_value(),
                    timeout_s=self._timeout_s,
                    clock=self._clock,
                )
            handler = handler_class(config=config, client=client, http=self._http)
            return await handler.refresh(tokens_of(credentials))
        except RefreshRejected:
            raise
        except ProviderUnavailable as error:
            raise RefreshRejected(f"provider unavailable: {error}") from None
        except OAuthFlowError as error:
            # Provider errors carry no secrets (providers/errors.py) and name the OAuth code;
            # the handlers say themselves whether only a new authorization can help.
            reauthorize = getattr(error, "reauthorization_required", None)
            if not isinstance(reauthorize, bool):
                reauthorize = "invalid_grant" in str(error)
            raise RefreshRejected(
                f"the provider refused: {error}", reauthorize=reauthorize
            ) from None
        except (ProviderError, httpx.HTTPError) as error:
            # The type only: an httpx error's text can quote the request, token included.
            log.warning("token refresh failed", extra={"provider": provider})
            raise RefreshRejected(f"provider unreachable ({type(error).__name__})") from None
