"""Asking providers for fresh tokens: the standard refresh grant from a declaration, or the
provider's registered handler; every failure worded without secrets. The token endpoint is
faked at the HTTP seam (httpx.MockTransport)."""

import json
from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from integrations.credentials.adapters.provider_refresh import ProviderTokenRefresher
from integrations.credentials.domain.credentials import OAuth2Credentials
from integrations.credentials.domain.refresh import RefreshRejected
from integrations.providers import (
    OAuthConfig,
    OAuthFlowError,
    OAuthHandler,
    OAuthTokens,
    Provider,
    build_registry,
)
from tests.unit.credentials.kit import MARK
from tests.unit.credentials_refresh.kit import START, FakeClock, expiring

pytestmark = pytest.mark.unit

TOKEN_URL = "https://example.test/oauth/token"
ENV = {"EXAMPLE_CLIENT_ID": "client-1", "EXAMPLE_CLIENT_SECRET": f"client-secret-{MARK}"}
REDIRECT = "https://platform.test/auth/integrations/oauth_callback"


def declaration(**changes: Any) -> Provider:
    fields: dict[str, Any] = {
        "authorize_url": "https://example.test/authorize",
        "token_url": TOKEN_URL,
        "client_id_env": "EXAMPLE_CLIENT_ID",
        "client_secret_env": "EXAMPLE_CLIENT_SECRET",
        "scope_separator": ",",
    }
    return Provider(name="example", title="Example", oauth=OAuthConfig(**(fields | changes)))


def credentials() -> OAuth2Credentials:
    return expiring(clock=FakeClock(), provider="example")


class Endpoint:
    """The provider's token endpoint: records requests, answers what the test says."""

    def __init__(self, status: int = 200, body: Any = None) -> None:
        self.status = status
        self.body = (
            body
            if body is not None
            else {
                "access_token": "access-new",
                "expires_in": 3600,
                "refresh_token": "refresh-new",
                "scope": "repo,gist",
                "token_type": "bearer",
            }
        )
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, json=self.body)


def refresher(
    endpoint: Any, provider: Provider | None = None, **registry: Any
) -> ProviderTokenRefresher:
    http = httpx.AsyncClient(transport=httpx.MockTransport(endpoint))
    return ProviderTokenRefresher(
        build_registry([provider or declaration()], **registry),
        ENV,
        http,
        redirect_uri=REDIRECT,
        clock=lambda: START,
    )


async def test_the_standard_refresh_grant_posts_the_refresh_token_with_the_client() -> None:
    endpoint = Endpoint()

    tokens = await refresher(endpoint).refresh(credentials())

    [request] = endpoint.requests
    form = dict(httpx.QueryParams(request.content.decode()))
    assert str(request.url) == TOKEN_URL
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": f"refresh-0-{MARK}",
        "client_id": "client-1",
        "client_secret": f"client-secret-{MARK}",
    }
    assert tokens.access_token.get_secret_value() == "access-new"
    assert tokens.access_token_expires_at == int(START + 3600)
    assert tokens.refresh_token is not None
    assert tokens.refresh_token.get_secret_value() == "refresh-new"
    assert tokens.scopes == ("repo", "gist")


async def test_basic_client_auth_and_json_bodies_follow_the_declaration() -> None:
    endpoint = Endpoint()
    provider = declaration(client_auth_method="client_secret_basic", token_request_format="json")

    await refresher(endpoint, provider).refresh(credentials())

    [request] = endpoint.requests
    assert request.headers["authorization"].startswith("Basic ")
    assert json.loads(request.content) == {
        "grant_type": "refresh_token",
        "refresh_token": f"refresh-0-{MARK}",
    }


async def test_a_provider_that_rotates_nothing_gives_no_refresh_token() -> None:
    """SPEC CM-3: the caller then keeps the old one (`apply_tokens`)."""
    tokens = await refresher(Endpoint(body={"access_token": "a", "expires_in": 60})).refresh(
        credentials()
    )

    assert tokens.refresh_token is None


@pytest.mark.parametrize(
    ("status", "body", "reauthorize"),
    [
        (400, {"error": "invalid_grant", "error_description": f"bad {MARK}"}, True),
        (401, {"error": "invalid_client"}, False),
        (503, {"message": f"down {MARK}"}, False),
        (200, {"error": "bad_refresh_token"}, False),  # GitHub answers errors with 200
        (200, {"token_type": "bearer"}, False),
    ],
)
async def test_a_refused_refresh_is_worded_without_the_response(
    status: int, body: dict[str, Any], reauthorize: bool
) -> None:
    with pytest.raises(RefreshRejected) as raised:
        await refresher(Endpoint(status, body)).refresh(credentials())

    assert raised.value.reauthorize is reauthorize
    assert raised.value.reason.startswith(f"token endpoint answered {status}")
    assert MARK not in raised.value.reason


async def test_an_unreachable_provider_is_a_rejection_naming_the_error_type() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot reach {request.url} with {MARK}")

    with pytest.raises(RefreshRejected) as raised:
        await refresher(refuse).refresh(credentials())

    assert raised.value.reason == "provider unreachable (ConnectError)"


async def test_an_unconfigured_or_unknown_provider_cannot_refresh() -> None:
    """SPEC CM-7: missing client id/secret → not configured."""
    unconfigured = ProviderTokenRefresher(
        build_registry([declaration()]), {}, httpx.AsyncClient(), redirect_uri=REDIRECT
    )
    with pytest.raises(RefreshRejected, match="not configured"):
        await unconfigured.refresh(credentials())
    with pytest.raises(RefreshRejected, match="no token refresh"):
        await refresher(Endpoint()).refresh(expiring(clock=FakeClock(), provider="nowhere"))


class RecordingHandler(OAuthHandler):
    refreshed: list[OAuthTokens] = []  # noqa: RUF012 - a test's record

    def authorize_url(
        self, *, scopes: Sequence[str], state: str, code_challenge: str | None
    ) -> str:
        raise NotImplementedError

    async def exchange_code(
        self, *, code: str, scopes: Sequence[str], code_verifier: str | None
    ) -> OAuthTokens:
        raise NotImplementedError

    async def refresh(self, tokens: OAuthTokens) -> OAuthTokens:
        self.refreshed.append(tokens)
        if tokens.metadata.get("refuse"):
            raise OAuthFlowError("The provider refused the refresh: invalid_grant.")
        return OAuthTokens(access_token=SecretStr("from-handler"))

    async def revoke(self, tokens: OAuthTokens) -> bool | None:
        return None


async def test_a_registered_handler_does_the_refresh_when_there_is_one() -> None:
    endpoint = Endpoint()
    with_handler = refresher(endpoint, oauth_handlers={"example": RecordingHandler})

    tokens = await with_handler.refresh(credentials())

    assert tokens.access_token.get_secret_value() == "from-handler"
    assert RecordingHandler.refreshed[-1].refresh_token == credentials().refresh_token
    assert endpoint.requests == []
    refusing = credentials().model_copy(update={"metadata": {"refuse": True}})
    with pytest.raises(RefreshRejected) as raised:
        await with_handler.refresh(refusing)
    assert raised.value.reauthorize
