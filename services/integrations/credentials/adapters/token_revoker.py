"""Revoke OAuth tokens at the provider when credentials are deleted (SPEC RT-6)."""

import logging
from collections.abc import Mapping

import httpx

from integrations.credentials.domain.credentials import OAuth2Credentials
from integrations.credentials.domain.refresh import tokens_of
from integrations.oauth_clients import OAuthNotSupported, create_handler
from integrations.providers import ProviderError, ProviderNotConfigured, ProviderRegistry

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
        try:
            handler = create_handler(
                self._registry,
                provider,
                env=self._env,
                http=self._http,
                redirect_uri=self._redirect_uri,
            )
        except (OAuthNotSupported, ProviderNotConfigured):
            return None
        try:
            return await handler.revoke(tokens_of(credentials))
        except (ProviderError, httpx.HTTPError) as error:
            # The type only: provider errors may quote responses, and those may quote tokens.
            log.warning(
                "token revocation failed",
                extra={"provider": provider, "error": type(error).__name__},
            )
            return False
