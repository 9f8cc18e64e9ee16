"""Every protected operation of every service, with every kind of bad credentials.

User routes (bearer JWT): missing, expired, signed with another key, `alg: none`, for
another audience, without an audience, garbage, or the service token instead → 401.
Internal routes (service token): missing → 401; wrong, or a user's JWT instead → 403.
Valid credentials get past authentication, so each case can fail.

The operations come from docs/openapi (the drift test keeps them equal to the apps).
"""

import base64
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Final

import httpx
import pytest
from asgi_lifespan import LifespanManager

from integrations.auth import issue_dev_token
from integrations.web.errors import ErrorBody
from tests.unit.security.apps import (
    AUDIENCE,
    OPERATIONS,
    SERVICE_NAMES,
    ServiceApp,
    service_app,
)

pytestmark = pytest.mark.unit

USER: Final = "alice"
OTHER_SECRET: Final = "another-jwt-secret-that-is-long-enough-0123"


def _b64(value: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _unsigned(app: ServiceApp) -> str:
    claims = {"sub": USER, "aud": AUDIENCE, "exp": int(time.time()) + 3600}
    return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."


def _expired(app: ServiceApp) -> str:
    an_hour_ago = time.time() - 7200
    return issue_dev_token(app.secrets.jwt_secret, USER, audience=AUDIENCE, now=an_hour_ago)


Token = Callable[[ServiceApp], str | None]

BAD_USER_TOKENS: Final[dict[str, Token]] = {
    "missing": lambda app: None,
    "expired": _expired,
    "signed with another key": lambda app: issue_dev_token(OTHER_SECRET, USER, audience=AUDIENCE),
    "alg none": _unsigned,
    "for another audience": lambda app: issue_dev_token(
        app.secrets.jwt_secret, USER, audience="another-platform"
    ),
    "without an audience": lambda app: issue_dev_token(app.secrets.jwt_secret, USER),
    "garbage": lambda app: "not.a.jwt",
    "the service token": lambda app: app.secrets.service_token,
}
BAD_SERVICE_TOKENS: Final[dict[str, tuple[Token, int]]] = {
    "missing": (lambda app: None, 401),
    "wrong": (lambda app: "not-the-service-token", 403),
    "a user's JWT": (lambda app: app.user_token(USER), 403),
}


SCHEMES: Final = ("UserJWT", "ServiceToken")


def _protected(name: str, scheme: str) -> list[tuple[str, str]]:
    return [
        (method, path) for s, method, path, schemes in OPERATIONS if s == name and scheme in schemes
    ]


def _services_with(scheme: str) -> list[str]:
    return [name for name in SERVICE_NAMES if _protected(name, scheme)]


def test_every_service_is_in_the_matrix_and_only_ingress_has_no_protected_operation() -> None:
    """Ingress is public: providers authenticate by signature (SPEC WH-5), not by token."""
    covered = set(_services_with("UserJWT")) | set(_services_with("ServiceToken"))
    assert covered == set(SERVICE_NAMES) - {"ingress"}
    assert not _protected("ingress", "UserJWT")
    assert not _protected("ingress", "ServiceToken")


@asynccontextmanager
async def running(name: str) -> AsyncIterator[tuple[ServiceApp, httpx.AsyncClient]]:
    app = service_app(name)
    transport = httpx.ASGITransport(app=app.app)
    async with (
        LifespanManager(app.app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield app, client


async def _call(
    client: httpx.AsyncClient, method: str, path: str, token: str | None
) -> httpx.Response:
    url = path.replace("{", "").replace("}", "-1")  # {credentials_id} -> credentials_id-1
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    body: dict[str, object] | None = {} if method in ("POST", "PUT") else None
    return await client.request(method, url, headers=headers, json=body)


def _refusal(response: httpx.Response, status: int) -> str | None:
    """Why `response` is not the expected refusal, or None when it is."""
    if response.status_code != status:
        return f"{response.status_code} {response.text[:200]}"
    body = ErrorBody.model_validate(response.json())
    if body.error.code != {401: "unauthorized", 403: "forbidden"}[status]:
        return f"code {body.error.code}"
    if status == 401 and not response.headers.get("www-authenticate", "").startswith("Bearer"):
        return "no Bearer challenge"
    return None


@pytest.mark.parametrize("case", BAD_USER_TOKENS)
@pytest.mark.parametrize("name", _services_with("UserJWT"))
async def test_a_user_route_refuses_a_bad_jwt_with_401(name: str, case: str) -> None:
    async with running(name) as (app, client):
        token = BAD_USER_TOKENS[case](app)
        failures = {
            f"{method} {path}": reason
            for method, path in _protected(name, "UserJWT")
            if (reason := _refusal(await _call(client, method, path, token), 401))
        }
    assert failures == {}


@pytest.mark.parametrize("case", BAD_SERVICE_TOKENS)
@pytest.mark.parametrize("name", _services_with("ServiceToken"))
async def test_an_internal_route_refuses_a_missing_or_wrong_service_token(
    name: str, case: str
) -> None:
    token_of, status = BAD_SERVICE_TOKENS[case]
    async with running(name) as (app, client):
        token = token_of(app)
        failures = {
            f"{method} {path}": reason
            for method, path in _protected(name, "ServiceToken")
            if (reason := _refusal(await _call(client, method, path, token), status))
        }
    assert failures == {}


@pytest.mark.parametrize(
    ("name", "scheme"),
    [(name, scheme) for scheme in SCHEMES for name in _services_with(scheme)],
)
async def test_valid_credentials_get_past_authentication(name: str, scheme: str) -> None:
    operations = _protected(name, scheme)
    async with running(name) as (app, client):
        token = app.user_token(USER) if scheme == "UserJWT" else app.secrets.service_token
        statuses = {
            f"{method} {path}": (await _call(client, method, path, token)).status_code
            for method, path in operations
        }
    assert operations
    assert all(status not in (401, 403) for status in statuses.values()), statuses


BODY_ROUTES: Final = [
    (operation.service, operation.path, operation.security[0])
    for operation in OPERATIONS
    if operation.method == "POST" and operation.security and "{" not in operation.path
] + [("credentials", "/api/integrations/github/credentials", "UserJWT")]


@pytest.mark.parametrize(
    ("body", "status"),
    [(b"{not json", 422), (b'{"a": "\xff"}', 400)],
    ids=["not JSON", "not UTF-8"],
)
@pytest.mark.parametrize(("name", "path", "scheme"), BODY_ROUTES)
async def test_a_malformed_body_is_refused_for_authentication_first(
    name: str, path: str, scheme: str, body: bytes, status: int
) -> None:
    """FastAPI reads a JSON body before any dependency; the caller must still hear 401/403
    before it learns anything about its body (400/422 only once authenticated)."""
    async with running(name) as (app, client):
        valid = app.user_token(USER) if scheme == "UserJWT" else app.secrets.service_token
        answers = {}
        for token in (None, "not-a-valid-token", valid):
            headers = {"Content-Type": "application/json"}
            if token is not None:
                headers["Authorization"] = f"Bearer {token}"
            response = await client.post(path, content=body, headers=headers)
            answers[token] = response.status_code
    wrong = 403 if scheme == "ServiceToken" else 401
    assert answers == {None: 401, "not-a-valid-token": wrong, valid: status}
