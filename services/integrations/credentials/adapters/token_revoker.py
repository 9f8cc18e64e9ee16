"""Revoke OAuth tokens at the provider when credentials are deleted (SPEC RT-6)."""

import logging
from collections.abc import Mapping

import httpx

from integrations.credentials.domain.credentials import OAuth2Credentials
from integrations.providers import (
    OAuthTokens,
    ProviderError,
    ProviderNotConfigured,
    ProviderRegistry,
)

log = logging.getLogger(__name__)


class NoRevocation:
    """`TokenRevoker` where no provider can be asked (tests, or no OAuth apps at all)."""

    async def revoke(self, credentials: OAuth2Credentials) -> bool | None:
        return None


class ProviderTokenRevoker:
    """Through the provider's registered `OAuthHandler`, with this deployment's OAuth app.

    Best effort: the credentials are already deleted when this runs, so a provider that
    fails answers `False` (logged) rather than failing the request.
    """

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

    async def revoke(self, credentials: OAuth2Credentials) -> bool | None:
        provider = credentials.provider
        handler_class = self._registry.oauth_handler(provider)
        config = self._registry.oauth_config(provider)
        if handler_class is None or config is None:
            return None
        try:
            client = config.client_from_env(provider, self._env, redirect_uri=self._redirect_uri)
        except ProviderNotConfigured:
            return None
        handler = handler_class(config=config, client=client, http=self._http)
        try:
            return await handler.revoke(_tokens(credentials))
        except (ProviderError, httpx.HTTPError) as error:
            # The type only: provider errors may quote responses, and those may quote tokens.
            log.warning(
                "token revocation failed",
                extra={"provider": provider, "error": type(error).__name__},
            )
            return False


def _tokens(credentials: OAuth2Credentials) -> OAuthTokens:
    return OAuthTokens(
        access_token=credentials.access_token,
        access_token_expires_at=credentials.access_token_expires_at,
        refresh_token=credentials.refresh_token,
        refresh_token_expires_at=credentials.refresh_token_expires_at,
        scopes=tuple(credentials.scopes),
        username=credentials.username,
        title=credentials.title,
        metadata=credentials.metadata,
    )


def redirect_uri(frontend_base_url: str | None, platform_base_url: str) -> str:
    """SPEC CM-7."""
    base = (frontend_base_url or platform_base_url).rstrip("/")
    return f"{base}/auth/integrations/oauth_callback"
