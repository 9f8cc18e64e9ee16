"""GitHub's handler: declared request shapes, plus its REST revocation and `login` name."""

import httpx
import pytest

from .support import (
    CLIENT_ID,
    CLIENT_SECRET,
    Provider,
    basic_credentials,
    form_of,
    handler_for,
    json_of,
    query_of,
    tokens,
)

pytestmark = pytest.mark.unit


async def test_authorize_joins_scopes_with_spaces_without_pkce() -> None:
    async with Provider().http() as http:
        url = handler_for("github", http).authorize_url(
            scopes=["repo", "read:org"], state="s", code_challenge="c" * 43
        )

    assert url.startswith("https://github.com/login/oauth/authorize?")
    query = query_of(url)
    assert query["scope"] == ["repo read:org"]
    assert "code_challenge" not in query


async def test_exchange_posts_the_secret_and_reads_comma_separated_scopes() -> None:
    provider = Provider()
    provider.on(
        "POST",
        "/login/oauth/access_token",
        httpx.Response(200, json={"access_token": "gho_x", "scope": "repo,read:org"}),
    )
    provider.on("GET", "/user", httpx.Response(200, json={"login": "octocat", "name": "Octo"}))
    async with provider.http() as http:
        result = await handler_for("github", http).exchange_code(
            code="c", scopes=["repo", "read:org"], code_verifier="v" * 43
        )

    request = provider.only("POST", "/login/oauth/access_token")
    assert form_of(request)["client_secret"] == CLIENT_SECRET
    assert "code_verifier" not in form_of(request)
    # GitHub answers form-encoded unless asked for JSON.
    assert request.headers["accept"] == "application/json"
    assert result.scopes == ("repo", "read:org")
    assert result.username == "octocat"
    assert result.access_token_expires_at is None
    user_request = provider.only("GET", "/user")
    assert user_request.headers["accept"] == "application/vnd.github+json"


async def test_github_reports_a_bad_code_in_a_200_answer() -> None:
    provider = Provider()
    provider.on(
        "POST",
        "/login/oauth/access_token",
        httpx.Response(200, json={"error": "bad_verification_code"}),
    )
    async with provider.http() as http:
        with pytest.raises(Exception, match="bad_verification_code"):
            await handler_for("github", http).exchange_code(code="c", scopes=[], code_verifier=None)


@pytest.mark.parametrize(("status", "revoked"), [(204, True), (404, True), (422, False)])
async def test_revocation_deletes_the_app_token_with_basic_auth(status: int, revoked: bool) -> None:
    provider = Provider()
    provider.on("DELETE", f"/applications/{CLIENT_ID}/token", httpx.Response(status))
    async with provider.http() as http:
        assert await handler_for("github", http).revoke(tokens()) is revoked

    request = provider.only("DELETE", f"/applications/{CLIENT_ID}/token")
    assert request.url.host == "api.github.com"
    assert basic_credentials(request) == (CLIENT_ID, CLIENT_SECRET)
    assert json_of(request) == {"access_token": "access-1"}
