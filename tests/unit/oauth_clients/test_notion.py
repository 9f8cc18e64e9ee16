"""Notion's handler: Basic auth, JSON token request, the workspace as title, no refresh."""

import httpx
import pytest

from .support import (
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    Provider,
    basic_credentials,
    handler_for,
    json_of,
    query_of,
    tokens,
)

pytestmark = pytest.mark.unit

ANSWER = {
    "access_token": "secret_notion",
    "token_type": "bearer",
    "bot_id": "bot-1",
    "workspace_id": "ws-1",
    "workspace_name": "Acme",
    "workspace_icon": None,
    "owner": {"type": "user", "user": {"id": "u-1", "person": {"email": "ada@acme.test"}}},
    "duplicated_template_id": None,
}


async def test_authorize_asks_for_a_user_owned_token_without_scopes() -> None:
    async with Provider().http() as http:
        query = query_of(
            handler_for("notion", http).authorize_url(scopes=[], state="s", code_challenge=None)
        )

    assert query["owner"] == ["user"]
    assert "scope" not in query
    assert "code_challenge" not in query


async def test_exchange_is_json_with_basic_auth_and_describes_the_workspace() -> None:
    provider = Provider()
    provider.on("POST", "/v1/oauth/token", httpx.Response(200, json=ANSWER))
    async with provider.http() as http:
        result = await handler_for("notion", http).exchange_code(
            code="c", scopes=[], code_verifier="v" * 43
        )

    request = provider.only("POST", "/v1/oauth/token")
    assert basic_credentials(request) == (CLIENT_ID, CLIENT_SECRET)
    assert json_of(request) == {
        "grant_type": "authorization_code",
        "code": "c",
        "redirect_uri": REDIRECT_URI,
    }
    assert result.title == "Acme"
    assert result.username == "ada@acme.test"
    assert result.metadata["workspace_id"] == "ws-1"
    assert result.metadata["bot_id"] == "bot-1"
    assert result.access_token_expires_at is None
    assert result.refresh_token is None
    assert len(provider.requests) == 1  # no user endpoint


async def test_tokens_are_neither_refreshed_nor_revoked() -> None:
    provider = Provider()
    current = tokens(refresh=None, expires_at=None)
    async with provider.http() as http:
        handler = handler_for("notion", http)
        assert await handler.refresh(current) is current
        assert await handler.revoke(current) is None

    assert provider.requests == []
