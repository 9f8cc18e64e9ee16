"""The declared handler: every request shape comes from the provider's `OAuthConfig`."""

from typing import Any, ClassVar

import httpx
import pytest

from integrations.oauth_clients import (
    DeclaredOAuthHandler,
    NotRefreshable,
    ProviderRefused,
    ProviderUnavailable,
)
from integrations.providers import OAuthConfig, OAuthFlowError

from .support import (
    CHALLENGE,
    CLIENT,
    CLIENT_ID,
    CLIENT_SECRET,
    NOW,
    REDIRECT_URI,
    VERIFIER,
    Provider,
    basic_credentials,
    form_of,
    json_of,
    query_of,
    tokens,
)

pytestmark = pytest.mark.unit

BASE = "https://auth.example.test"


class ExampleHandler(DeclaredOAuthHandler):
    PROVIDER_NAME: ClassVar[str | None] = "example"


def example(http: httpx.AsyncClient, **fields: Any) -> ExampleHandler:
    declared: dict[str, Any] = {
        "authorize_url": f"{BASE}/authorize",
        "token_url": f"{BASE}/token",
        "revoke_url": f"{BASE}/revoke",
        "user_info_url": f"{BASE}/me",
        "client_id_env": "EXAMPLE_CLIENT_ID",
        "client_secret_env": "EXAMPLE_CLIENT_SECRET",
    }
    return ExampleHandler(
        config=OAuthConfig(**{**declared, **fields}), client=CLIENT, http=http, clock=lambda: NOW
    )


def token_answer(**fields: Any) -> httpx.Response:
    return httpx.Response(
        200, json={"access_token": "new-access", "token_type": "Bearer", **fields}
    )


async def test_the_authorize_url_carries_the_declared_parameters() -> None:
    """SPEC RT-1, CM-7: client id, redirect URI, joined scopes, state, extra parameters."""
    async with Provider().http() as http:
        handler = example(http, scope_separator=",", extra_authorize_params={"prompt": "consent"})
        url = handler.authorize_url(scopes=["a", "b"], state="st-1", code_challenge=CHALLENGE)

    assert url.startswith(f"{BASE}/authorize?")
    assert query_of(url) == {
        "response_type": ["code"],
        "client_id": [CLIENT_ID],
        "redirect_uri": [REDIRECT_URI],
        "scope": ["a,b"],
        "state": ["st-1"],
        "prompt": ["consent"],
    }


async def test_pkce_adds_the_s256_challenge_only_when_declared() -> None:
    """SPEC CS-8: PKCE S256."""
    async with Provider().http() as http:
        with_pkce = example(http, pkce=True).authorize_url(
            scopes=[], state="s", code_challenge=CHALLENGE
        )
        without = example(http).authorize_url(scopes=[], state="s", code_challenge=CHALLENGE)
        with pytest.raises(ValueError, match="PKCE"):
            example(http, pkce=True).authorize_url(scopes=[], state="s", code_challenge=None)

    assert query_of(with_pkce)["code_challenge"] == [CHALLENGE]
    assert query_of(with_pkce)["code_challenge_method"] == ["S256"]
    assert "code_challenge" not in query_of(without)


async def test_default_scopes_are_asked_for_when_none_are_requested() -> None:
    """SPEC RT-2: default scopes applied when none requested."""
    async with Provider().http() as http:
        handler = example(http, default_scopes=("identify",))
        url = handler.authorize_url(scopes=[], state="s", code_challenge=None)
        asked = handler.authorize_url(scopes=["guilds"], state="s", code_challenge=None)

    assert query_of(url)["scope"] == ["identify"]
    assert query_of(asked)["scope"] == ["guilds"]


@pytest.mark.parametrize("pkce", [True, False])
async def test_the_code_exchange_posts_the_rfc_6749_form(pkce: bool) -> None:
    """SPEC CS-8: the verifier goes along exactly when the authorization had a challenge."""
    provider = Provider()
    provider.on("POST", "/token", token_answer())
    async with provider.http() as http:
        await example(http, pkce=pkce, user_info_url=None).exchange_code(
            code="the-code", scopes=["a"], code_verifier=VERIFIER
        )

    request = provider.only("POST", "/token")
    expected = {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": REDIRECT_URI,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    if pkce:
        expected["code_verifier"] = VERIFIER
    assert form_of(request) == expected
    assert request.headers["content-type"].startswith("application/x-www-form-urlencoded")
    assert request.headers["accept"] == "application/json"
    assert basic_credentials(request) is None


async def test_basic_client_authentication_keeps_the_secret_out_of_the_body() -> None:
    provider = Provider()
    provider.on("POST", "/token", token_answer())
    async with provider.http() as http:
        await example(
            http, client_auth_method="client_secret_basic", user_info_url=None
        ).exchange_code(code="c", scopes=[], code_verifier=None)

    request = provider.only("POST", "/token")
    assert basic_credentials(request) == (CLIENT_ID, CLIENT_SECRET)
    assert "client_secret" not in form_of(request)


async def test_json_token_requests_send_the_same_fields_as_json() -> None:
    provider = Provider()
    provider.on("POST", "/token", token_answer())
    async with provider.http() as http:
        await example(
            http,
            client_auth_method="client_secret_basic",
            token_request_format="json",
            user_info_url=None,
        ).exchange_code(code="c", scopes=[], code_verifier=None)

    request = provider.only("POST", "/token")
    assert request.headers["content-type"] == "application/json"
    assert json_of(request) == {
        "grant_type": "authorization_code",
        "code": "c",
        "redirect_uri": REDIRECT_URI,
    }
    assert basic_credentials(request) == (CLIENT_ID, CLIENT_SECRET)


async def test_a_json_token_request_with_the_secret_in_the_body_is_refused_up_front() -> None:
    async with Provider().http() as http:
        with pytest.raises(ValueError, match="client_secret_basic"):
            example(http, token_request_format="json")


async def test_the_token_answer_becomes_tokens_with_absolute_expiries() -> None:
    provider = Provider()
    provider.on(
        "POST",
        "/token",
        token_answer(
            refresh_token="new-refresh",
            expires_in="3600",
            refresh_token_expires_in=86400,
            scope="a b",
        ),
    )
    provider.on("GET", "/me", httpx.Response(200, json={"login": "octo", "email": "o@x.test"}))
    async with provider.http() as http:
        result = await example(http).exchange_code(code="c", scopes=["a"], code_verifier=None)

    assert result.access_token.get_secret_value() == "new-access"
    assert result.access_token_expires_at == NOW + 3600
    assert result.refresh_token is not None
    assert result.refresh_token.get_secret_value() == "new-refresh"
    assert result.refresh_token_expires_at == NOW + 86400
    assert result.scopes == ("a", "b")
    assert result.username == "octo"
    assert provider.only("GET", "/me").headers["authorization"] == "Bearer new-access"


@pytest.mark.parametrize(
    ("reported", "granted"),
    [
        (None, ("a", "b")),  # RFC 6749 §5.1: no `scope` means what was requested
        ("a b", ("a", "b")),
        (["a b"], ("a", "b")),  # SPEC RT-2: a single space-separated string is split
        (["a", "b", "a"], ("a", "b")),
    ],
)
async def test_granted_scopes_are_normalised(reported: object, granted: tuple[str, ...]) -> None:
    """SPEC RT-2."""
    provider = Provider()
    answer = {} if reported is None else {"scope": reported}
    provider.on("POST", "/token", token_answer(**answer))
    async with provider.http() as http:
        result = await example(http, user_info_url=None).exchange_code(
            code="c", scopes=["a", "b"], code_verifier=None
        )

    assert result.scopes == granted


async def test_a_failing_user_endpoint_costs_only_the_username() -> None:
    provider = Provider()
    provider.on("POST", "/token", token_answer())
    provider.on("GET", "/me", httpx.Response(500))
    async with provider.http() as http:
        result = await example(http).exchange_code(code="c", scopes=[], code_verifier=None)

    assert result.username is None
    assert result.access_token.get_secret_value() == "new-access"


async def test_a_refused_code_says_why_without_echoing_secrets() -> None:
    """SPEC RT-2: exchange failure → the reason; RT-14: never a secret."""
    provider = Provider()
    description = 'The code "the-code" expired'  # authlib's own parser refuses the quotes
    provider.on(
        "POST",
        "/token",
        httpx.Response(400, json={"error": "invalid_grant", "error_description": description}),
    )
    async with provider.http() as http:
        with pytest.raises(ProviderRefused) as refused:
            await example(http).exchange_code(code="c", scopes=[], code_verifier=VERIFIER)

    assert refused.value.error == "invalid_grant"
    assert str(refused.value) == f"example refused the code exchange (invalid_grant: {description})"
    assert CLIENT_SECRET not in str(refused.value)


@pytest.mark.parametrize(
    ("response", "cause"),
    [
        (httpx.Response(503, text="down"), "HTTP 503"),
        (httpx.Response(200, text="<html>"), "HTTP 200"),
        (httpx.Response(200, json={"token_type": "Bearer"}), "no access token"),
        (httpx.Response(200, json={"access_token": "a", "expires_in": "soon"}), "expires_in"),
    ],
)
async def test_an_unusable_answer_is_a_transient_failure(
    response: httpx.Response, cause: str
) -> None:
    provider = Provider()
    provider.on("POST", "/token", response)
    async with provider.http() as http:
        with pytest.raises(ProviderUnavailable, match=cause) as failed:
            await example(http).exchange_code(code="c", scopes=[], code_verifier=None)

    assert not failed.value.reauthorization_required


async def test_an_unreachable_provider_is_named_by_the_error_type_only() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url} with {request.content!r}")

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        with pytest.raises(ProviderUnavailable) as failed:
            await example(http).exchange_code(code="c", scopes=[], code_verifier=None)

    assert str(failed.value) == "example could not complete the code exchange (ConnectError)"


async def test_refresh_keeps_a_rotated_refresh_token() -> None:
    provider = Provider()
    provider.on(
        "POST", "/token", token_answer(refresh_token="refresh-2", expires_in=60, scope="read")
    )
    async with provider.http() as http:
        fresh = await example(http).refresh(tokens())

    assert form_of(provider.only("POST", "/token")) == {
        "grant_type": "refresh_token",
        "refresh_token": "refresh-1",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert fresh.refresh_token is not None
    assert fresh.refresh_token.get_secret_value() == "refresh-2"
    assert fresh.access_token_expires_at == NOW + 60
    assert (fresh.username, fresh.title, fresh.metadata) == ("octo", "Mine", {"k": "v"})


async def test_refresh_keeps_the_old_refresh_token_when_none_is_returned() -> None:
    """SPEC CM-3: keep the old refresh token when the provider returns none."""
    provider = Provider()
    provider.on("POST", "/token", token_answer(expires_in=60))
    current = tokens().model_copy(update={"refresh_token_expires_at": NOW + 999})
    async with provider.http() as http:
        fresh = await example(http).refresh(current)

    assert fresh.refresh_token == current.refresh_token
    assert fresh.refresh_token_expires_at == NOW + 999
    assert fresh.scopes == current.scopes
    assert fresh.access_token.get_secret_value() == "new-access"


async def test_a_refused_refresh_tells_whether_the_user_must_reconnect() -> None:
    provider = Provider()
    provider.on("POST", "/token", httpx.Response(400, json={"error": "invalid_grant"}))
    async with provider.http() as http:
        with pytest.raises(ProviderRefused) as refused:
            await example(http).refresh(tokens())

    assert refused.value.reauthorization_required


async def test_tokens_without_refresh_token_are_returned_as_they_are_or_refused() -> None:
    provider = Provider()
    async with provider.http() as http:
        handler = example(http)
        never_expiring = tokens(refresh=None, expires_at=None)
        assert await handler.refresh(never_expiring) is never_expiring
        with pytest.raises(NotRefreshable) as impossible:
            await handler.refresh(tokens(refresh=None))

    assert impossible.value.reauthorization_required
    assert isinstance(impossible.value, OAuthFlowError)
    assert provider.requests == []


async def test_revocation_revokes_the_refresh_token_then_the_access_token() -> None:
    """RFC 7009 with the declared client authentication."""
    provider = Provider()
    provider.on("POST", "/revoke", httpx.Response(200))
    async with provider.http() as http:
        revoked = await example(http, client_auth_method="client_secret_basic").revoke(tokens())

    assert revoked is True
    sent = [form_of(r) for r in provider.requests]
    assert sent == [
        {"token": "refresh-1", "token_type_hint": "refresh_token"},
        {"token": "access-1", "token_type_hint": "access_token"},
    ]
    assert all(basic_credentials(r) == (CLIENT_ID, CLIENT_SECRET) for r in provider.requests)


async def test_revocation_reports_a_refusal_and_a_provider_that_cannot_revoke() -> None:
    provider = Provider()
    provider.on("POST", "/revoke", httpx.Response(400, json={"error": "unsupported_token_type"}))
    async with provider.http() as http:
        assert await example(http).revoke(tokens(refresh=None)) is False
        assert await example(http, revoke_url=None).revoke(tokens()) is None
