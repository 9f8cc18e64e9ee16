"""The OAuth connect flow end to end against a real authorization server on loopback.

The server is assembled from authlib's components (`tests/harness/oauth_server.py`: RFC 6749
code + refresh grants with rotation, RFC 7636 S256 required, RFC 7009) and served by uvicorn.
The oauth service is composed by its bootstrap, keeps its states in the real MongoDB-wire
server of the harness, and talks to the provider over real HTTP; the bus is in memory, with
a stand-in for the credentials service that decrypts the tokens as credentials must.
The refresh and revocation steps call the handler the way the credentials service does.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr
from pymongo import MongoClient

from integrations.bus import InMemoryBus
from integrations.oauth.adapters.state_repository import COLLECTION
from integrations.oauth.bootstrap import build
from integrations.oauth_clients import (
    ProviderRefused,
    callback_redirect_uri,
    create_handler,
    oauth_registry,
)
from integrations.providers import OAuthHandler, OAuthTokens
from integrations.providers.catalogue import CATALOGUE
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from integrations.storage import Database
from tests.harness.oauth_server import (
    LocalAuthorizationServer,
    RegisteredClient,
    local_provider,
    serve_on_loopback,
)
from tests.unit.oauth.kit import (
    PLATFORM,
    CredentialsStandIn,
    StoredTokens,
    bearer,
    settings,
)

pytestmark = pytest.mark.integration

REDIRECT_URI = callback_redirect_uri(None, PLATFORM)
ENV = {"LOCALAUTH_CLIENT_ID": "platform-app", "LOCALAUTH_CLIENT_SECRET": "platform-secret"}


@dataclass
class Connected:
    service: httpx.AsyncClient
    browser: httpx.AsyncClient
    provider: LocalAuthorizationServer
    credentials: CredentialsStandIn
    database: Database
    handler: OAuthHandler  # built as the credentials service builds it

    async def login(self, user_id: str) -> dict[str, Any]:
        response = await self.service.get(
            "/api/integrations/localauth/login",
            params={"scopes": "read,write"},
            headers=bearer(user_id),
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def authorize(self, login_url: str) -> tuple[str, str]:
        response = await self.browser.get(login_url)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT_URI)
        query = parse_qs(urlsplit(location).query)
        return query["code"][0], query["state"][0]

    async def callback(self, user_id: str, code: str, state: str) -> httpx.Response:
        return await self.service.post(
            "/api/integrations/localauth/callback",
            json={"code": code, "state_token": state},
            headers=bearer(user_id),
        )


class RecordingDependencies(Dependencies):
    opened: Database | None = None

    def database(self, name: str) -> Database:
        self.opened = super().database(name)
        return self.opened


@pytest.fixture
async def connected(mongodb_uri: str) -> AsyncIterator[Connected]:
    provider = LocalAuthorizationServer(
        clients=[RegisteredClient("platform-app", "platform-secret", (REDIRECT_URI,))],
        username="ada",
        expires_in=3600,
    )
    database_name = f"oauth_{uuid.uuid4().hex[:10]}"
    async with serve_on_loopback(provider.app) as base_url:
        declaration = local_provider(base_url)
        registry = oauth_registry([*CATALOGUE, declaration])
        bus = InMemoryBus()
        credentials = CredentialsStandIn(bus)
        config = settings(database_url=mongodb_uri, database_name=database_name)
        deps = RecordingDependencies(bus, mongodb_uri)
        unit = build(config, deps, registry=registry, env=ENV)
        app = host_units(
            [unit], title="oauth", version="0", bus=bus, auth=config.auth_config(), closers=[]
        )
        try:
            async with (
                LifespanManager(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://oauth.test"
                ) as service,
                httpx.AsyncClient() as browser,
                httpx.AsyncClient() as credentials_http,
            ):
                assert deps.opened is not None
                handler = create_handler(
                    registry,
                    "localauth",
                    env=ENV,
                    http=credentials_http,
                    redirect_uri=REDIRECT_URI,
                )
                yield Connected(service, browser, provider, credentials, deps.opened, handler)
        finally:
            await deps.close()
            client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
            with client:
                client.drop_database(database_name)


def stored_tokens(stored: StoredTokens) -> OAuthTokens:
    """What the credentials service would hand its handler for a refresh or a revocation."""
    command = stored.command
    expires = command.access_token_expires_at
    return OAuthTokens(
        access_token=SecretStr(stored.access_token),
        access_token_expires_at=int(expires.timestamp()) if expires else None,
        refresh_token=SecretStr(stored.refresh_token) if stored.refresh_token else None,
        scopes=tuple(command.scopes),
        username=command.username,
    )


async def test_login_authorize_callback_stores_the_credentials(connected: Connected) -> None:
    """SPEC RT-1, RT-2, CS-8, CS-9; DESIGN §4: login URL → authorize (PKCE S256) → callback →
    StoreOAuthCredentials decrypted by credentials → CredentialsCreated → metadata."""
    login = await connected.login("user-1")
    code, state = await connected.authorize(login["login_url"])
    assert state == login["state_token"]

    response = await connected.callback("user-1", code, state)

    assert response.status_code == 200, response.text
    meta = response.json()
    assert meta["provider"] == "localauth"
    assert meta["type"] == "oauth2"
    assert meta["scopes"] == ["read", "write"]
    assert meta["username"] == "ada"
    stored = connected.credentials.stored[meta["id"]]
    issued = connected.provider.tokens[-1]
    assert stored.access_token == issued.access_token
    assert stored.refresh_token == issued.refresh_token
    # The state was single use and is gone; the token itself was never stored.
    assert await connected.database.collection(COLLECTION).count({}) == 0
    again = await connected.callback("user-1", code, state)
    assert again.status_code == 400


async def test_two_concurrent_callbacks_with_one_state_let_exactly_one_through(
    connected: Connected,
) -> None:
    """SPEC CS-9: single use even under concurrent callbacks, on the MongoDB-wire store."""
    login = await connected.login("user-1")
    code, state = await connected.authorize(login["login_url"])

    responses = await asyncio.gather(*(connected.callback("user-1", code, state) for _ in range(4)))

    assert sorted(r.status_code for r in responses) == [200, 400, 400, 400]
    assert len(connected.credentials.stored) == 1


async def test_refresh_rotates_the_refresh_token(connected: Connected) -> None:
    """The credentials service's refresh through the shared handler: the provider rotates,
    the old refresh token is dead and says the user must reconnect."""
    login = await connected.login("user-1")
    response = await connected.callback("user-1", *await connected.authorize(login["login_url"]))
    first = stored_tokens(connected.credentials.stored[response.json()["id"]])

    second = await connected.handler.refresh(first)

    assert second.access_token != first.access_token
    assert second.refresh_token is not None
    assert second.refresh_token != first.refresh_token
    assert second.scopes == ("read", "write")
    assert second.username == "ada"
    with pytest.raises(ProviderRefused) as reused:
        await connected.handler.refresh(first)
    assert reused.value.reauthorization_required
    third = await connected.handler.refresh(second)
    assert third.refresh_token != second.refresh_token


async def test_revocation_ends_the_grant(connected: Connected) -> None:
    """RFC 7009 through the shared handler, as credentials revokes on delete (SPEC RT-6)."""
    login = await connected.login("user-1")
    response = await connected.callback("user-1", *await connected.authorize(login["login_url"]))
    tokens = stored_tokens(connected.credentials.stored[response.json()["id"]])

    assert await connected.handler.revoke(tokens) is True

    userinfo = await connected.browser.get(
        connected.handler.config.user_info_url or "",
        headers={"Authorization": f"Bearer {tokens.access_token.get_secret_value()}"},
    )
    assert userinfo.status_code == 401
    with pytest.raises(ProviderRefused, match="invalid_grant"):
        await connected.handler.refresh(tokens)
