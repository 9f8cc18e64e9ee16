"""Which handler serves which provider; building one with the deployment's OAuth app."""

import httpx
import pytest

from integrations.oauth_clients import (
    OAUTH_HANDLERS,
    DeclaredOAuthHandler,
    OAuthNotSupported,
    callback_redirect_uri,
    create_handler,
    handlers_for,
    oauth_registry,
)
from integrations.providers import OAuthConfig, Provider, ProviderNotConfigured
from integrations.providers.catalogue import CATALOGUE, OAUTH_PROVIDERS

pytestmark = pytest.mark.unit

ENV = {"GITHUB_CLIENT_ID": "id", "GITHUB_CLIENT_SECRET": "secret"}


def test_every_oauth_provider_of_the_catalogue_has_its_own_module() -> None:
    assert set(OAUTH_HANDLERS) == {provider.name for provider in OAUTH_PROVIDERS}


def test_a_provider_declared_without_a_module_gets_the_declared_handler() -> None:
    newcomer = Provider(
        name="newcomer",
        title="Newcomer",
        oauth=OAuthConfig(
            authorize_url="https://n.test/a",
            token_url="https://n.test/t",
            client_id_env="N_ID",
            client_secret_env="N_SECRET",
        ),
    )
    registry = oauth_registry([*CATALOGUE, newcomer])
    handler = registry.oauth_handler("newcomer")

    assert handlers_for([newcomer]) == {"newcomer": DeclaredOAuthHandler}
    assert handler is not None
    assert issubclass(handler, DeclaredOAuthHandler)
    assert handler.PROVIDER_NAME == "newcomer"
    assert registry.oauth_handler("openai") is None  # an API-key provider


async def test_create_handler_builds_with_the_env_client() -> None:
    """SPEC CM-7."""
    async with httpx.AsyncClient() as http:
        handler = create_handler(
            oauth_registry(), "github", env=ENV, http=http, redirect_uri="https://p/cb"
        )

    assert handler.provider == "github"
    assert handler.client.client_id == "id"
    assert handler.client.redirect_uri == "https://p/cb"


async def test_create_handler_refuses_unknown_non_oauth_and_unconfigured_providers() -> None:
    """SPEC RT-1, CM-7: unknown or non-OAuth → not supported; missing env → not configured."""
    registry = oauth_registry()
    async with httpx.AsyncClient() as http:
        for name in ("nope", "openai"):
            with pytest.raises(OAuthNotSupported, match=name):
                create_handler(registry, name, env=ENV, http=http, redirect_uri="https://p/cb")
        with pytest.raises(ProviderNotConfigured, match="GOOGLE_CLIENT_ID"):
            create_handler(registry, "google", env=ENV, http=http, redirect_uri="https://p/cb")


def test_the_redirect_uri_prefers_the_frontend() -> None:
    """SPEC CM-7."""
    assert (
        callback_redirect_uri("https://app.test/", "https://api.test")
        == "https://app.test/auth/integrations/oauth_callback"
    )
    assert (
        callback_redirect_uri(None, "https://api.test")
        == "https://api.test/auth/integrations/oauth_callback"
    )
