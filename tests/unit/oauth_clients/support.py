"""Builders the handler tests share: a recording MockTransport and catalogue handlers."""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlsplit

import httpx
from pydantic import SecretStr

from integrations.oauth_clients import oauth_registry
from integrations.providers import OAuthClient, OAuthConfig, OAuthHandler, OAuthTokens

NOW = 1_750_000_000
REDIRECT_URI = "https://platform.test/auth/integrations/oauth_callback"
CLIENT_ID = "client-id-123"
CLIENT_SECRET = "client-secret-xyz"
CLIENT = OAuthClient(
    client_id=CLIENT_ID, client_secret=SecretStr(CLIENT_SECRET), redirect_uri=REDIRECT_URI
)
CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
REGISTRY = oauth_registry()

Responder = Callable[[httpx.Request], httpx.Response]


@dataclass
class Provider:
    """A fake provider: answers by (method, path), records every request."""

    routes: dict[tuple[str, str], Responder] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def on(self, method: str, path: str, response: httpx.Response | Responder) -> None:
        self.routes[(method, path)] = response if callable(response) else (lambda _: response)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get((request.method, request.url.path))
        return route(request) if route else httpx.Response(404, json={"error": "no route"})

    def http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))

    def only(self, method: str, path: str) -> httpx.Request:
        matching = [r for r in self.requests if (r.method, r.url.path) == (method, path)]
        assert len(matching) == 1, [(r.method, r.url.path) for r in self.requests]
        return matching[0]


def config_of(provider: str) -> OAuthConfig:
    config = REGISTRY.oauth_config(provider)
    assert config is not None
    return config


def handler_for(provider: str, http: httpx.AsyncClient, **options: Any) -> OAuthHandler:
    """The registry's handler class, as both services get it, with a fixed clock."""
    handler_class = REGISTRY.oauth_handler(provider)
    assert handler_class is not None
    return handler_class(  # type: ignore[call-arg]
        config=config_of(provider), client=CLIENT, http=http, clock=lambda: NOW, **options
    )


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)


def form_of(request: httpx.Request) -> dict[str, str]:
    return dict(parse_qsl(request.content.decode()))


def json_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def basic_credentials(request: httpx.Request) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    user, _, password = base64.b64decode(value).decode().partition(":")
    return user, password


def tokens(
    access: str = "access-1",
    refresh: str | None = "refresh-1",
    expires_at: int | None = NOW + 60,
    scopes: tuple[str, ...] = ("read",),
) -> OAuthTokens:
    return OAuthTokens(
        access_token=SecretStr(access),
        access_token_expires_at=expires_at,
        refresh_token=SecretStr(refresh) if refresh else None,
        scopes=scopes,
        username="octo",
        title="Mine",
        metadata={"k": "v"},
    )
