"""Linear's handler: its scope format (comma out, space back), GraphQL name, bearer revoke."""

import httpx
import pytest

from .support import CLIENT_SECRET, Provider, form_of, handler_for, json_of, query_of, tokens

pytestmark = pytest.mark.unit


async def test_authorize_joins_scopes_with_commas_and_applies_defaults() -> None:
    async with Provider().http() as http:
        handler = handler_for("linear", http)
        asked = handler.authorize_url(scopes=["read", "write"], state="s", code_challenge=None)
        defaulted = handler.authorize_url(scopes=[], state="s", code_challenge=None)

    assert query_of(asked)["scope"] == ["read,write"]
    assert query_of(defaulted)["scope"] == ["read,write,issues:create,comments:create"]


@pytest.mark.parametrize("reported", ["read write", ["read write"], ["read", "write"]])
async def test_granted_scopes_come_back_split_whatever_the_shape(reported: object) -> None:
    """SPEC RT-2: Linear's space-separated scope string is split in its handler."""
    provider = Provider()
    provider.on(
        "POST",
        "/oauth/token",
        httpx.Response(200, json={"access_token": "lin_x", "expires_in": 86399, "scope": reported}),
    )
    provider.on(
        "POST",
        "/graphql",
        httpx.Response(200, json={"data": {"viewer": {"name": "Ada", "email": "a@l.test"}}}),
    )
    async with provider.http() as http:
        result = await handler_for("linear", http).exchange_code(
            code="c", scopes=["read", "write"], code_verifier=None
        )

    assert result.scopes == ("read", "write")
    assert result.username == "Ada"
    assert form_of(provider.only("POST", "/oauth/token"))["client_secret"] == CLIENT_SECRET
    graphql = provider.only("POST", "/graphql")
    assert graphql.headers["authorization"] == "Bearer lin_x"
    assert "viewer" in json_of(graphql)["query"]


async def test_the_graphql_endpoint_is_a_constructor_argument() -> None:
    provider = Provider()
    provider.on("POST", "/oauth/token", httpx.Response(200, json={"access_token": "lin_x"}))
    provider.on(
        "POST", "/api/graphql", httpx.Response(200, json={"data": {"viewer": {"name": "Ada"}}})
    )
    async with provider.http() as http:
        handler = handler_for("linear", http, graphql_url="http://linear.local/api/graphql")
        result = await handler.exchange_code(code="c", scopes=[], code_verifier=None)

    assert result.username == "Ada"
    assert provider.only("POST", "/api/graphql").url.host == "linear.local"


async def test_revocation_presents_the_access_token_as_bearer() -> None:
    provider = Provider()
    provider.on("POST", "/oauth/revoke", httpx.Response(200))
    async with provider.http() as http:
        assert await handler_for("linear", http).revoke(tokens()) is True

    assert provider.only("POST", "/oauth/revoke").headers["authorization"] == "Bearer access-1"
