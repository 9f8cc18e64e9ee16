"""Reddit's handler: permanent duration, Basic auth, its User-Agent everywhere, "*" scopes."""

import httpx
import pytest

from integrations.oauth_clients.reddit import USER_AGENT

from .support import (
    CLIENT_ID,
    CLIENT_SECRET,
    Provider,
    basic_credentials,
    form_of,
    handler_for,
    query_of,
    tokens,
)

pytestmark = pytest.mark.unit


async def test_authorize_asks_for_a_permanent_grant() -> None:
    async with Provider().http() as http:
        query = query_of(
            handler_for("reddit", http).authorize_url(
                scopes=["identity"], state="s", code_challenge=None
            )
        )

    assert query["duration"] == ["permanent"]
    assert query["scope"] == ["identity"]


async def test_every_call_has_basic_auth_where_needed_and_the_user_agent() -> None:
    provider = Provider()
    provider.on(
        "POST",
        "/api/v1/access_token",
        httpx.Response(200, json={"access_token": "r-a", "refresh_token": "r-r", "scope": "*"}),
    )
    provider.on("GET", "/api/v1/me", httpx.Response(200, json={"name": "spez"}))
    provider.on("POST", "/api/v1/revoke_token", httpx.Response(204))
    async with provider.http() as http:
        handler = handler_for("reddit", http)
        result = await handler.exchange_code(
            code="c", scopes=["identity", "read"], code_verifier=None
        )
        assert await handler.revoke(tokens()) is True

    token_request = provider.only("POST", "/api/v1/access_token")
    assert basic_credentials(token_request) == (CLIENT_ID, CLIENT_SECRET)
    assert "client_secret" not in form_of(token_request)
    assert all(r.headers["user-agent"] == USER_AGENT for r in provider.requests)
    assert result.scopes == ("identity", "read")  # "*": everything requested
    assert result.username == "spez"


async def test_the_user_agent_is_configurable() -> None:
    provider = Provider()
    provider.on("POST", "/api/v1/access_token", httpx.Response(200, json={"access_token": "a"}))
    provider.on("GET", "/api/v1/me", httpx.Response(200, json={"name": "spez"}))
    async with provider.http() as http:
        await handler_for("reddit", http, user_agent="test-agent/1").exchange_code(
            code="c", scopes=[], code_verifier=None
        )

    assert {r.headers["user-agent"] for r in provider.requests} == {"test-agent/1"}
