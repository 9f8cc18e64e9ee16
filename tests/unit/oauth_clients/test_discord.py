"""Discord's handler: PKCE, `identify` by default, the name under `user` of `/oauth2/@me`."""

import httpx
import pytest

from .support import CHALLENGE, CLIENT_SECRET, VERIFIER, Provider, form_of, handler_for, query_of
from .support import tokens as stored_tokens

pytestmark = pytest.mark.unit


async def test_authorize_defaults_to_identify_with_pkce() -> None:
    async with Provider().http() as http:
        query = query_of(
            handler_for("discord", http).authorize_url(
                scopes=[], state="s", code_challenge=CHALLENGE
            )
        )

    assert query["scope"] == ["identify"]
    assert query["code_challenge"] == [CHALLENGE]


async def test_exchange_reads_the_user_of_the_authorization() -> None:
    provider = Provider()
    provider.on(
        "POST",
        "/api/oauth2/token",
        httpx.Response(
            200,
            json={
                "access_token": "d-a",
                "refresh_token": "d-r",
                "expires_in": 604800,
                "scope": "identify guilds",
            },
        ),
    )
    provider.on(
        "GET",
        "/api/oauth2/@me",
        httpx.Response(200, json={"scopes": ["identify"], "user": {"username": "wumpus"}}),
    )
    async with provider.http() as http:
        result = await handler_for("discord", http).exchange_code(
            code="c", scopes=["identify", "guilds"], code_verifier=VERIFIER
        )

    form = form_of(provider.only("POST", "/api/oauth2/token"))
    assert form["code_verifier"] == VERIFIER
    assert form["client_secret"] == CLIENT_SECRET
    assert result.username == "wumpus"
    assert result.scopes == ("identify", "guilds")


async def test_revocation_is_rfc_7009_with_the_secret_in_the_form() -> None:
    provider = Provider()
    provider.on("POST", "/api/oauth2/token/revoke", httpx.Response(200))
    async with provider.http() as http:
        assert await handler_for("discord", http).revoke(stored_tokens()) is True

    assert [form_of(r)["token_type_hint"] for r in provider.requests] == [
        "refresh_token",
        "access_token",
    ]
    assert all(form_of(r)["client_secret"] == CLIENT_SECRET for r in provider.requests)
