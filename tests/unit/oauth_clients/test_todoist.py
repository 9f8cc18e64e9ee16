"""Todoist's handler: comma-separated scopes, a bare token answer, nothing to refresh."""

import httpx
import pytest

from .support import CLIENT_ID, CLIENT_SECRET, Provider, form_of, handler_for, query_of, tokens

pytestmark = pytest.mark.unit


async def test_authorize_joins_the_always_requested_scopes_with_commas() -> None:
    async with Provider().http() as http:
        url = handler_for("todoist", http).authorize_url(
            scopes=["task:add"], state="s", code_challenge=None
        )

    scope = query_of(url)["scope"][0]
    assert scope.startswith("task:add,data:read,")
    assert "," in scope
    assert " " not in scope


async def test_a_bare_token_answer_grants_the_requested_scopes() -> None:
    provider = Provider()
    provider.on(
        "POST",
        "/oauth/access_token",
        httpx.Response(200, json={"access_token": "td", "token_type": "Bearer"}),
    )
    async with provider.http() as http:
        result = await handler_for("todoist", http).exchange_code(
            code="c", scopes=["task:add"], code_verifier=None
        )

    form = form_of(provider.only("POST", "/oauth/access_token"))
    assert (form["client_id"], form["client_secret"], form["code"]) == (
        CLIENT_ID,
        CLIENT_SECRET,
        "c",
    )
    assert result.scopes[0] == "task:add"
    assert "data:delete" in result.scopes
    assert result.access_token_expires_at is None
    assert result.username is None


async def test_nothing_to_refresh_and_nothing_to_revoke() -> None:
    provider = Provider()
    current = tokens(refresh=None, expires_at=None)
    async with provider.http() as http:
        handler = handler_for("todoist", http)
        assert await handler.refresh(current) is current
        assert await handler.revoke(current) is None

    assert provider.requests == []
