"""Which handler serves which provider, and how a service gets one ready to use."""

from collections.abc import Iterable, Mapping
from types import MappingProxyType

import httpx

from integrations.oauth_clients.declared import DeclaredOAuthHandler
from integrations.oauth_clients.discord import DiscordOAuthHandler
from integrations.oauth_clients.errors import OAuthNotSupported
from integrations.oauth_clients.github import GitHubOAuthHandler
from integrations.oauth_clients.google import GoogleOAuthHandler
from integrations.oauth_clients.linear import LinearOAuthHandler
from integrations.oauth_clients.notion import NotionOAuthHandler
from integrations.oauth_clients.reddit import RedditOAuthHandler
from integrations.oauth_clients.todoist import TodoistOAuthHandler
from integrations.oauth_clients.twitter import TwitterOAuthHandler
from integrations.providers import (
    OAuthHandler,
    Provider,
    ProviderRegistry,
    build_registry,
)

OAUTH_HANDLERS: Mapping[str, type[OAuthHandler]] = MappingProxyType(
    {
        handler.PROVIDER_NAME: handler
        for handler in (
            GitHubOAuthHandler,
            GoogleOAuthHandler,
            NotionOAuthHandler,
            LinearOAuthHandler,
            TwitterOAuthHandler,
            TodoistOAuthHandler,
            DiscordOAuthHandler,
            RedditOAuthHandler,
        )
        if handler.PROVIDER_NAME is not None
    }
)
"""The providers whose flow needs code beyond their declaration."""

CALLBACK_PATH = "/auth/integrations/oauth_callback"


def handlers_for(providers: Iterable[Provider]) -> dict[str, type[OAuthHandler]]:
    """A handler for every provider declared with OAuth: its module's, or the declared one
    (so a new provider is a catalogue entry, and code only for its quirks)."""
    return {
        provider.name: OAUTH_HANDLERS.get(provider.name, DeclaredOAuthHandler)
        for provider in providers
        if provider.oauth is not None
    }


def oauth_registry(providers: Iterable[Provider] | None = None) -> ProviderRegistry:
    """The registry (default: the catalogue) with every OAuth provider's handler attached;
    what the oauth and credentials services build at their composition roots."""
    if providers is None:
        from integrations.providers.catalogue import CATALOGUE

        providers = CATALOGUE
    declared = list(providers)
    return build_registry(declared, oauth_handlers=handlers_for(declared))


def callback_redirect_uri(frontend_base_url: str | None, platform_base_url: str) -> str:
    """SPEC CM-7: where providers send the user back, the same for every provider."""
    return (frontend_base_url or platform_base_url).rstrip("/") + CALLBACK_PATH


def create_handler(
    registry: ProviderRegistry,
    provider: str,
    *,
    env: Mapping[str, str],
    http: httpx.AsyncClient,
    redirect_uri: str,
) -> OAuthHandler:
    """The provider's handler with this deployment's OAuth app (SPEC CM-7).

    Raises `OAuthNotSupported` for an unknown or non-OAuth provider, `ProviderNotConfigured`
    when its client id or secret is missing from `env`.
    """
    handler_class = registry.oauth_handler(provider)
    config = registry.oauth_config(provider)
    if handler_class is None or config is None:
        raise OAuthNotSupported(provider)
    client = config.client_from_env(provider, env, redirect_uri=redirect_uri)
    return handler_class(config=config, client=client, http=http)
