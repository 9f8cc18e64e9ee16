"""A real OAuth 2.0 authorization server for tests, assembled from authlib's server components:
RFC 6749 authorization code and refresh grants (refresh tokens rotate, a used one is dead),
RFC 7636 PKCE (S256 only, required by default), RFC 7009 revocation, plus a user endpoint.

It serves a Starlette app, on a loopback port through uvicorn (`serve_on_loopback`) or in
process through `httpx.ASGITransport`. There is one resource owner (`username`) and consent
is automatic: `GET /authorize` answers with the redirect a browser would follow.

    server = LocalAuthorizationServer(clients=[RegisteredClient(...)], username="octo")
    async with serve_on_loopback(server.app) as base_url:
        ...  # base_url + AUTHORIZE_PATH, TOKEN_PATH, REVOKE_PATH, USERINFO_PATH
"""

import asyncio
import hmac
import json
import secrets
import socket
import time
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import uvicorn
from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    AuthorizationServer,
    ClientMixin,
    OAuth2Error,
    OAuth2Payload,
    OAuth2Request,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc6749.errors import InvalidRequestError
from authlib.oauth2.rfc6749.util import list_to_scope, scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integrations.providers import OAuthConfig, Provider

AUTHORIZE_PATH = "/authorize"
TOKEN_PATH = "/token"
REVOKE_PATH = "/revoke"
USERINFO_PATH = "/userinfo"


def local_provider(base_url: str) -> Provider:
    """`localauth`, declared like a catalogue entry, whose endpoints are this server at
    `base_url`; its OAuth app is in LOCALAUTH_CLIENT_ID and LOCALAUTH_CLIENT_SECRET."""
    return Provider(
        name="localauth",
        title="Local authorization server",
        oauth=OAuthConfig(
            authorize_url=base_url + AUTHORIZE_PATH,
            token_url=base_url + TOKEN_PATH,
            revoke_url=base_url + REVOKE_PATH,
            user_info_url=base_url + USERINFO_PATH,
            client_id_env="LOCALAUTH_CLIENT_ID",
            client_secret_env="LOCALAUTH_CLIENT_SECRET",
            pkce=True,
            client_auth_method="client_secret_basic",
        ),
    )


@dataclass
class RegisteredClient(ClientMixin):  # type: ignore[misc]
    client_id: str
    client_secret: str
    redirect_uris: tuple[str, ...]
    # The only client authentication the token and revocation endpoints accept from it.
    auth_method: str = "client_secret_basic"
    # None: every requested scope is granted; else only these (to test partial grants).
    grantable_scopes: tuple[str, ...] | None = None

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str | None) -> str:
        requested = scope_to_list(scope) or []
        if self.grantable_scopes is not None:
            requested = [s for s in requested if s in self.grantable_scopes]
        return str(list_to_scope(requested) or "")

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret, self.client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class IssuedCode(AuthorizationCodeMixin):  # type: ignore[misc]
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    user: str
    code_challenge: str | None
    code_challenge_method: str | None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class IssuedToken(TokenMixin):  # type: ignore[misc]
    client: RegisteredClient
    user: str
    scope: str
    access_token: str
    refresh_token: str | None
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    access_revoked: bool = False
    refresh_revoked: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        return bool(client.get_client_id() == self.client.client_id)

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.access_revoked

    def get_user(self) -> str:
        return self.user

    def get_client(self) -> RegisteredClient:
        return self.client


class _S256Required(CodeChallenge):  # type: ignore[misc]
    """PKCE for every client, confidential ones too (as X requires), and never `plain`."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # noqa: RUF012 - authlib's class attribute

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        if not grant.request.payload.data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge'", redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)


class _AuthorizationCodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        payload = request.payload.data
        self.server.codes[code] = IssuedCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=payload.get("redirect_uri", ""),
            scope=request.scope or "",
            user=request.user,
            code_challenge=payload.get("code_challenge"),
            code_challenge_method=payload.get("code_challenge_method"),
        )

    def query_authorization_code(self, code: str, client: RegisteredClient) -> IssuedCode | None:
        issued = self.server.codes.get(code)
        return issued if issued is not None and issued.client_id == client.client_id else None

    def delete_authorization_code(self, authorization_code: IssuedCode) -> None:
        self.server.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: IssuedCode) -> str:
        return authorization_code.user


class _RotatingRefreshTokenGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> IssuedToken | None:
        server: LocalAuthorizationServer = self.server
        token = server.token_by_refresh(refresh_token)
        return token if token is not None and not token.refresh_revoked else None

    def authenticate_user(self, refresh_token: IssuedToken) -> str:
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: IssuedToken) -> None:
        # Rotation: the used refresh token (and its access token) are dead from now on.
        refresh_token.refresh_revoked = True
        refresh_token.access_revoked = True


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]  # noqa: RUF012

    def query_token(self, token_string: str, token_type_hint: str | None) -> IssuedToken | None:
        server: LocalAuthorizationServer = self.server
        by_access = server.token_by_access(token_string)
        by_refresh = server.token_by_refresh(token_string)
        if token_type_hint == "refresh_token":
            return by_refresh or by_access
        return by_access or by_refresh

    def revoke_token(self, token: IssuedToken, request: OAuth2Request) -> None:
        # RFC 7009 §2.1: revoking a refresh token also ends the access tokens of its grant.
        token.access_revoked = True
        if request.form.get("token_type_hint") != "access_token":
            token.refresh_revoked = True


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, pairs: Sequence[tuple[str, str]]) -> None:
        self._data = dict(pairs)
        self._datalist: dict[str, list[str]] = {}
        for key, value in pairs:
            self._datalist.setdefault(key, []).append(value)

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return self._datalist


class _StarletteRequest(OAuth2Request):  # type: ignore[misc]
    """authlib's request over a Starlette request whose body was read beforehand (authlib's
    server API is synchronous)."""

    def __init__(self, request: Request, form: list[tuple[str, str]]) -> None:
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._query = list(request.query_params.multi_items())
        self._form = dict(form)
        self.payload = _Payload(self._query + form)

    @property
    def args(self) -> dict[str, str]:
        return dict(self._query)

    @property
    def form(self) -> dict[str, str]:
        return self._form


class LocalAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(
        self,
        *,
        clients: Iterable[RegisteredClient],
        username: str,
        email: str | None = None,
        expires_in: int = 3600,
        pkce_required: bool = True,
    ) -> None:
        super().__init__()
        self.clients = {client.client_id: client for client in clients}
        self.username = username
        self.email = email or f"{username}@example.test"
        self.codes: dict[str, IssuedCode] = {}
        self.tokens: list[IssuedToken] = []
        # Every token request the server answered, as (grant_type, form, headers), so tests
        # can check what a client sent.
        self.token_requests: list[tuple[str, dict[str, str], dict[str, str]]] = []

        def random_token(**_: object) -> str:
            return secrets.token_urlsafe(32)

        self.register_token_generator(
            "default",
            BearerTokenGenerator(random_token, random_token, lambda client, grant: expires_in),
        )
        challenge = _S256Required() if pkce_required else CodeChallenge(required=False)
        self.register_grant(_AuthorizationCodeGrant, [challenge])
        self.register_grant(_RotatingRefreshTokenGrant)
        self.register_endpoint(_Revocation)
        self.app = Starlette(
            routes=[
                Route(AUTHORIZE_PATH, self._authorize, methods=["GET"]),
                Route(TOKEN_PATH, self._token, methods=["POST"]),
                Route(REVOKE_PATH, self._revoke, methods=["POST"]),
                Route(USERINFO_PATH, self._userinfo, methods=["GET"]),
            ]
        )

    # authlib's framework hooks

    def query_client(self, client_id: str) -> RegisteredClient | None:
        return self.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        self.tokens.append(
            IssuedToken(
                client=request.client,
                user=request.user,
                scope=token.get("scope", ""),
                access_token=token["access_token"],
                refresh_token=token.get("refresh_token"),
                expires_in=token["expires_in"],
            )
        )

    def send_signal(self, name: str, *args: object, **kwargs: object) -> None:
        return None

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        return request  # built by the routes below, body already read

    def handle_response(
        self, status_code: int, payload: object, headers: Sequence[tuple[str, str]]
    ) -> Response:
        body = json.dumps(payload) if isinstance(payload, dict) else str(payload or "")
        return Response(body, status_code=status_code, headers=dict(headers))

    # lookups

    def token_by_access(self, access_token: str) -> IssuedToken | None:
        return next((t for t in self.tokens if t.access_token == access_token), None)

    def token_by_refresh(self, refresh_token: str) -> IssuedToken | None:
        return next((t for t in self.tokens if t.refresh_token == refresh_token), None)

    # routes

    async def _authorize(self, request: Request) -> Response:
        oauth_request = _StarletteRequest(request, [])
        try:
            grant = self.get_consent_grant(oauth_request, end_user=self.username)
        except OAuth2Error as error:
            return self.handle_error_response(oauth_request, error)  # type: ignore[no-any-return]
        return self.create_authorization_response(  # type: ignore[no-any-return]
            oauth_request, grant_user=self.username, grant=grant
        )

    async def _token(self, request: Request) -> Response:
        oauth_request = await _read(request)
        form = dict(oauth_request.form)
        self.token_requests.append(
            (form.get("grant_type", ""), form, {k.lower(): v for k, v in request.headers.items()})
        )
        return self.create_token_response(oauth_request)  # type: ignore[no-any-return]

    async def _revoke(self, request: Request) -> Response:
        return self.create_endpoint_response(  # type: ignore[no-any-return]
            "revocation", await _read(request)
        )

    async def _userinfo(self, request: Request) -> Response:
        scheme, _, access_token = request.headers.get("authorization", "").partition(" ")
        token = self.token_by_access(access_token) if scheme.lower() == "bearer" else None
        if token is None or token.is_revoked() or token.is_expired():
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse({"sub": token.user, "username": token.user, "email": self.email})


async def _read(request: Request) -> _StarletteRequest:
    body = (await request.body()).decode()
    return _StarletteRequest(request, parse_qsl(body, keep_blank_values=True))


@asynccontextmanager
async def serve_on_loopback(app: Starlette) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free 127.0.0.1 port; yields its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # No websockets and no lifespan: nothing here needs them, and their imports warn.
    config = uvicorn.Config(app, log_level="warning", lifespan="off", ws="none", http="h11")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:
                if task.done():
                    task.result()  # surfaces why it could not start
                await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()
