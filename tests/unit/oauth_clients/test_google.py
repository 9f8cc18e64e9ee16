"""Google's handler: offline access, consent prompt, PKCE, e-mail as the name, revocation."""

import httpx
import pytest

from .support import (
    CHALLENGE,
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

EMAIL_SCOPE = "https://www.googleapis.com/auth/userinfo.email"


async def test_authorize_asks_for_offline_access_consent_pkce_and_the_email_scope() -> None:
    async with Provider().http() as http:
        url = handler_for("google", http).authorize_url(
            scopes=["https://www.googleapis.com/auth/drive"], state="s", code_challenge=CHALLENGE
        )

    query = query_of(url)
    assert query["access_type"] == ["offline"]
    assert query["prompt"] == ["consent"]
    assert query["include_granted_scopes"] == ["true"]
    assert query["code_challenge"] == [CHALLENGE]
    assert query["code_challenge_method"] == ["S256"]
    scopes = query["scope"][0].split(" ")
    assert scopes[0] == "https://www.googleapis.com/auth/drive"
    assert {EMAIL_SCOPE, "openid"} <= set(scopes)


async def test_exchange_sends_the_verifier_and_names_the_account_by_email() -> None:
    provider = Provider()
    provider.on(
        "POST",
        "/token",
        httpx.Response(
            200,
            json={
                "access_token": "ya29.x",
                "refresh_token": "1//r",
                "expires_in": 3599,
                "scope": f"openid {EMAIL_SCOPE}",
                "token_type": "Bearer",
            },
        ),
    )
    provider.on("GET", "/oauth2/v2/userinfo", httpx.Response(200, json={"email": "me@g.test"}))
    async with provider.http() as http:
        result = await handler_for("google", http).exchange_code(
            code="4/c", scopes=[], code_verifier=VERIFIER
        )

    form = form_of(provider.only("POST", "/token"))
    assert form["code_verifier"] == VERIFIER
    assert form["client_secret"] == CLIENT_SECRET
    assert result.username == "me@g.test"
    assert result.scopes == ("openid", EMAIL_SCOPE)


async def test_refresh_keeps_the_refresh_token_google_does_not_repeat() -> None:
    provider = Provider()
    provider.on("POST", "/token", httpx.Response(200, json={"access_token": "ya29.y"}))
    async with provider.http() as http:
        fresh = await handler_for("google", http).refresh(tokens())

    assert fresh.refresh_token is not None
    assert fresh.refresh_token.get_secret_value() == "refresh-1"


async def test_revocation_sends_one_token_without_client_credentials() -> None:
    provider = Provider()
    provider.on("POST", "/revoke", httpx.Response(200))
    async with provider.http() as http:
        assert await handler_for("google", http).revoke(tokens()) is True

    request = provider.only("POST", "/revoke")
    assert request.url.host == "oauth2.googleapis.com"
    assert form_of(request) == {"token": "refresh-1"}
    assert basic_credentials(request) is None
