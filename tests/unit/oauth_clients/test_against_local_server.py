"""The declared handler against a real authorization server (authlib's server components,
in process): the protocol, not our idea of it."""

import dataclasses
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from pydantic import SecretStr

from integrations.oauth.domain.states import issue_state
from integrations.oauth_clients import DeclaredOAuthHandler, ProviderRefused
from integrations.providers import OAuthClient, OAuthConfig, OAuthHandler, OAuthTokens
from tests.harness.oauth_server import (
    AUTHORIZE_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
    LocalAuthorizationServer,
    RegisteredClient,
)

pytestmark = pytest.mark.unit

BASE = "http://localhost"
REDIRECT = "http://localhost:3000/auth/integrations/oauth_callback"
CONFIG = OAuthConfig(
    authorize_url=BASE + AUTHORIZE_PATH,
    token_url=BASE + TOKEN_PATH,
    revoke_url=BASE + REVOKE_PATH,
    user_info_url=BASE + USERINFO_PATH,
    client_id_env="LOCAL_CLIENT_ID",
    client_secret_env="LOCAL_CLIENT_SECRET",
    pkce=True,
    client_auth_method="client_secret_basic",
)


class LocalHandler(DeclaredOAuthHandler):
    PROVIDER_NAME = "local"


@pytest.fixture
def server() -> LocalAuthorizationServer:
    client = RegisteredClient("local-id", "local-secret", (REDIRECT,))
    return LocalAuthorizationServer(clients=[client], username="ada")


@pytest.fixture
async def http(server: LocalAuthorizationServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=server.app)) as client:
        yield client


def handler(http: httpx.AsyncClient, **config: Any) -> OAuthHandler:
    client = OAuthClient(
        client_id="local-id", client_secret=SecretStr("local-secret"), redirect_uri=REDIRECT
    )
    return LocalHandler(config=dataclasses.replace(CONFIG, **config), client=client, http=http)


async def authorize(http: httpx.AsyncClient, oauth: OAuthHandler) -> tuple[str, str]:
    """(code, verifier) as a browser would bring them back."""
    issued = issue_state(user_id="u", provider="local", scopes=("read",), now=0)
    url = oauth.authorize_url(
        scopes=["read"], state=issued.token, code_challenge=issued.code_challenge
    )
    response = await http.get(url)
    assert response.status_code == 302, response.text
    query = parse_qs(urlsplit(response.headers["location"]).query)
    assert query["state"] == [issued.token]
    return query["code"][0], issued.state.code_verifier.get_secret_value()


async def connect(http: httpx.AsyncClient, oauth: OAuthHandler) -> OAuthTokens:
    code, verifier = await authorize(http, oauth)
    return await oauth.exchange_code(code=code, scopes=["read"], code_verifier=verifier)


async def test_the_authorization_code_flow_with_pkce_yields_named_tokens(
    http: httpx.AsyncClient, server: LocalAuthorizationServer
) -> None:
    """SPEC CS-8: PKCE S256 end to end; the server checks the verifier."""
    tokens = await connect(http, handler(http))

    assert tokens.scopes == ("read",)
    assert tokens.refresh_token is not None
    assert tokens.access_token_expires_at is not None
    assert tokens.username == "ada"
    grant, form, _ = server.token_requests[0]
    assert grant == "authorization_code"
    assert "code_verifier" in form


async def test_a_wrong_verifier_is_refused_by_the_server(http: httpx.AsyncClient) -> None:
    oauth = handler(http)
    code, _ = await authorize(http, oauth)

    with pytest.raises(ProviderRefused) as refused:
        await oauth.exchange_code(code=code, scopes=["read"], code_verifier="x" * 64)
    assert refused.value.error == "invalid_grant"


async def test_a_code_is_good_once(http: httpx.AsyncClient) -> None:
    oauth = handler(http)
    code, verifier = await authorize(http, oauth)
    await oauth.exchange_code(code=code, scopes=["read"], code_verifier=verifier)

    with pytest.raises(ProviderRefused, match="invalid_grant"):
        await oauth.exchange_code(code=code, scopes=["read"], code_verifier=verifier)


async def test_the_server_accepts_only_the_declared_client_authentication(
    http: httpx.AsyncClient,
) -> None:
    oauth = handler(http, client_auth_method="client_secret_post")
    code, verifier = await authorize(http, oauth)

    with pytest.raises(ProviderRefused, match="invalid_client"):
        await oauth.exchange_code(code=code, scopes=["read"], code_verifier=verifier)


async def test_refresh_rotates_and_the_used_refresh_token_dies(http: httpx.AsyncClient) -> None:
    oauth = handler(http)
    first = await connect(http, oauth)

    second = await oauth.refresh(first)
    assert second.refresh_token is not None
    assert first.refresh_token is not None
    assert second.refresh_token.get_secret_value() != first.refresh_token.get_secret_value()
    assert second.username == "ada"
    with pytest.raises(ProviderRefused) as reused:
        await oauth.refresh(first)
    assert reused.value.reauthorization_required
    assert (await oauth.refresh(second)).access_token != second.access_token


async def test_revocation_ends_the_grant(http: httpx.AsyncClient) -> None:
    oauth = handler(http)
    tokens = await connect(http, oauth)

    assert await oauth.revoke(tokens) is True
    userinfo = await http.get(
        BASE + USERINFO_PATH,
        headers={"Authorization": f"Bearer {tokens.access_token.get_secret_value()}"},
    )
    assert userinfo.status_code == 401
    with pytest.raises(ProviderRefused, match="invalid_grant"):
        await oauth.refresh(tokens)
