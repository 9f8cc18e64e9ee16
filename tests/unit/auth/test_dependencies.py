from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import Depends, FastAPI

from integrations.auth import (
    AuthConfig,
    AuthenticatedUser,
    Authenticator,
    CurrentUser,
    KeysUnavailable,
    build_authenticator,
    install_authenticator,
    issue_dev_token,
    require_service_token,
)

pytestmark = pytest.mark.unit

SECRET = "j" * 32 + "-jwt-secret"
SERVICE_TOKEN = "svc-" + "t" * 40


def make_app() -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"user_id": user.user_id}

    @app.get("/internal/ping", dependencies=[Depends(require_service_token)])
    async def ping() -> dict[str, bool]:
        return {"ok": True}

    return app


def config(**overrides: Any) -> AuthConfig:
    return AuthConfig(**{"jwt_secret": SECRET, "service_token": SERVICE_TOKEN, **overrides})


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = make_app()
    install_authenticator(app, build_authenticator(config()))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


def bearer(token: str | bytes) -> dict[bytes, bytes]:
    raw = token if isinstance(token, bytes) else token.encode()
    return {b"Authorization": b"Bearer " + raw}


async def test_a_valid_token_reaches_the_route_as_its_user(client: httpx.AsyncClient) -> None:
    response = await client.get("/me", headers=bearer(issue_dev_token(SECRET, "user-9")))

    assert response.status_code == 200
    assert response.json() == {"user_id": "user-9"}


async def test_no_authorization_header_is_401_with_a_bare_challenge(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/me")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json() == {"detail": "missing_token"}


@pytest.mark.parametrize("value", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "token-only"])
async def test_a_malformed_authorization_header_is_401_invalid_request(
    client: httpx.AsyncClient, value: str
) -> None:
    response = await client.get("/me", headers={"Authorization": value})

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_request"'
    assert response.json() == {"detail": "malformed_header"}


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (issue_dev_token("w" * 40, "user-9"), "invalid_token"),
        (issue_dev_token(SECRET, "user-9", now=1_000_000), "expired_token"),
        ("not-a-jwt", "invalid_token"),
    ],
)
async def test_a_bad_token_is_401_invalid_token_with_its_reason(
    client: httpx.AsyncClient, token: str, reason: str
) -> None:
    response = await client.get("/me", headers=bearer(token))

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer error="invalid_token", error_description="{reason}"'
    )
    assert response.json() == {"detail": reason}


async def test_the_scheme_name_is_case_insensitive(client: httpx.AsyncClient) -> None:
    token = issue_dev_token(SECRET, "user-9")

    response = await client.get("/me", headers={"Authorization": f"bearer {token}"})

    assert response.status_code == 200


async def test_the_service_token_lets_a_caller_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/internal/ping", headers=bearer(SERVICE_TOKEN))

    assert response.status_code == 200
    assert response.json() == {"ok": True}


async def test_a_missing_service_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/internal/ping")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "token",
    [SERVICE_TOKEN[:-1], SERVICE_TOKEN + "x", "svc-tökén".encode(), b"\xff\xfe"],
    ids=["prefix", "longer", "non-ascii", "non-utf8"],
)
async def test_a_wrong_service_token_is_403(client: httpx.AsyncClient, token: str | bytes) -> None:
    response = await client.get("/internal/ping", headers=bearer(token))

    assert response.status_code == 403
    assert response.json() == {"detail": "invalid_service_token"}


async def test_a_user_jwt_is_not_a_service_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/internal/ping", headers=bearer(issue_dev_token(SECRET, "u")))

    assert response.status_code == 403


async def test_without_a_configured_service_token_every_caller_is_refused() -> None:
    app = make_app()
    install_authenticator(app, build_authenticator(AuthConfig(jwt_secret=SECRET)))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.get("/internal/ping", headers=bearer(SERVICE_TOKEN))

    assert response.status_code == 403


async def test_an_unreachable_jwks_is_503_not_401() -> None:
    class DownVerifier:
        async def verify(self, token: str) -> AuthenticatedUser:
            raise KeysUnavailable()

    app = make_app()
    install_authenticator(app, Authenticator(DownVerifier()))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.get("/me", headers=bearer("whatever"))

    assert response.status_code == 503
    assert response.json() == {"detail": "keys_unavailable"}


async def test_a_fake_verifier_can_stand_in_for_tests() -> None:
    class FakeVerifier:
        async def verify(self, token: str) -> AuthenticatedUser:
            return AuthenticatedUser(user_id=token, claims={})

    app = make_app()
    install_authenticator(app, Authenticator(FakeVerifier()))

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.get("/me", headers=bearer("alice"))

    assert response.json() == {"user_id": "alice"}


async def test_an_app_without_an_authenticator_fails_loudly() -> None:
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)

    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.get("/me", headers=bearer("whatever"))

    assert response.status_code == 500


def test_the_openapi_document_declares_both_bearer_schemes() -> None:
    schemes = make_app().openapi()["components"]["securitySchemes"]

    assert schemes["UserJWT"] == {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
    assert schemes["ServiceToken"] == {"type": "http", "scheme": "bearer"}


def test_the_authenticator_repr_shows_no_secret() -> None:
    text = repr(build_authenticator(config()))

    assert SECRET not in text
    assert SERVICE_TOKEN not in text
