"""Twitter / X's handler: PKCE required, Basic auth, rotating refresh tokens, `data.username`."""

import httpx
import pytest

from .support import (
    CHALLENGE,
    CLIENT_ID,
    CLIENT_SECRET,
    VERIFIER,
    Provider,
    basic_credentials,
    form_of,
    handler_for,
    query_of,
    tokens,
)

pytestmark = pytest.mark.unit


async def test_authorize_requires_pkce_and_always_asks_for_offline_access() -> None:
    async with Provider().http() as http:
        handler = handler_for("twitter", http)
        url = handler.authorize_url(scopes=["tweet.read"], state="s", code_challenge=CHALLENGE)
        with pytest.raises(ValueError, match="PKCE"):
            handler.authorize_url(scopes=[], state="s", code_challenge=None)

    query = query_of(url)
    assert query["code_challenge_method"] == ["S256"]
    assert {"tweet.read", "offline.access", "users.read"} <= set(query["scope"][0].split(" "))


async def test_exchange_uses_basic_auth_and_the_verifier() -> None:
    provider = Provider()
    provider.on(
        "POST",
        "/2/oauth2/token",
        httpx.Response(
            200,
            json={
                "access_token": "x-a",
                "refresh_token": "x-r",
                "expires_in": 7200,
                "scope": "tweet.read users.read offline.access",
            },
        ),
    )
    provider.on("GET", "/2/users/me", httpx.Response(200, json={"data": {"username": "jack"}}))
    async with provider.http() as http:
        result = await handler_for("twitter", http).exchange_code(
            code="c", scopes=["tweet.read"], code_verifier=VERIFIER
        )

    request = provider.only("POST", "/2/oauth2/token")
    assert basic_credentials(request) == (CLIENT_ID, CLIENT_SECRET)
    assert form_of(request)["code_verifier"] == VERIFIER
    assert "client_secret" not in form_of(request)
    assert result.username == "jack"
    assert result.scopes == ("tweet.read", "users.read", "offline.access")


async def test_refresh_takes_the_rotated_refresh_token() -> None:
    provider = Provider()
    provider.on(
        "POST",
        "/2/oauth2/token",
        httpx.Response(200, json={"access_token": "x-a2", "refresh_token": "x-r2"}),
    )
    async with provider.http() as http:
        fresh = await handler_for("twitter", http).refresh(tokens())

    assert fresh.refresh_token is not None
    assert fresh.refresh_token.get_secret_value() == "x-r2"
    assert basic_credentials(provider.only("POST", "/2/oauth2/token")) == (CLIENT_ID, CLIENT_SECRET)


async def test_revocation_is_rfc_7009_with_basic_auth() -> None:
    provider = Provider()
    provider.on("POST", "/2/oauth2/revoke", httpx.Response(200, json={"revoked": True}))
    async with provider.http() as http:
        assert await handler_for("twitter", http).revoke(tokens()) is True

    assert len(provider.requests) == 2
    assert all(basic_credentials(r) == (CLIENT_ID, CLIENT_SECRET) for r in provider.requests)
