"""The oauth service composed by its bootstrap, in process: a real authorization server
(authlib's components, over ASGI) as the provider, an in-memory bus with a stand-in for the
credentials service, the embedded store, and fakes of Ayrshare and the internal API."""

import asyncio
import dataclasses
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from asgi_lifespan import LifespanManager
from joserfc import jwt
from joserfc.jwk import OctKey
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from integrations.auth import issue_dev_token
from integrations.bus import Bus, InMemoryBus, Record
from integrations.contracts import (
    CredentialsCreated,
    StoreOAuthCredentials,
    decode_as,
    topics,
    transport_associated_data,
)
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key
from integrations.oauth.bootstrap import build
from integrations.oauth.config import OAuthSettings
from integrations.oauth_clients import oauth_registry
from integrations.providers import OAuthConfig, Provider
from integrations.providers.catalogue import CATALOGUE
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from integrations.storage import Database
from tests.harness.oauth_server import (
    AUTHORIZE_PATH,
    REVOKE_PATH,
    TOKEN_PATH,
    USERINFO_PATH,
    LocalAuthorizationServer,
    RegisteredClient,
)

JWT_SECRET = "oauth-unit-tests-jwt-secret-0123456789abcdef"
SERVICE_TOKEN = "oauth-unit-tests-service-token-0123456789ab"
PLATFORM = "http://platform.test"
REDIRECT_URI = f"{PLATFORM}/auth/integrations/oauth_callback"
PROVIDER_BASE = "http://localhost"
CREDENTIALS_URL = "http://credentials.internal"
AYRSHARE_URL = "http://ayrshare.test/api"
ROOT_RING = KeyRing([generate_root_key("k1")])
# What the credentials service holds (the root ring) opens what oauth seals (the derived ring).
CREDENTIALS_CIPHER = Cipher.from_key_ring(ROOT_RING.export(), Purpose.TRANSPORT)

# A provider declared like any catalogue entry, whose endpoints are the local server's.
LOCAL_OAUTH = OAuthConfig(
    authorize_url=PROVIDER_BASE + AUTHORIZE_PATH,
    token_url=PROVIDER_BASE + TOKEN_PATH,
    revoke_url=PROVIDER_BASE + REVOKE_PATH,
    user_info_url=PROVIDER_BASE + USERINFO_PATH,
    client_id_env="LOCALAUTH_CLIENT_ID",
    client_secret_env="LOCALAUTH_CLIENT_SECRET",
    pkce=True,
    client_auth_method="client_secret_basic",
    default_scopes=("profile",),
)
LOCAL = Provider(name="localauth", title="Local authorization server", oauth=LOCAL_OAUTH)
# The same server under a second name: states must not cross providers.
OTHER = dataclasses.replace(
    LOCAL,
    name="otherauth",
    oauth=dataclasses.replace(
        LOCAL_OAUTH, client_id_env="OTHERAUTH_CLIENT_ID", client_secret_env="OTHERAUTH_SECRET"
    ),
)
ENV = {
    "LOCALAUTH_CLIENT_ID": "local-client",
    "LOCALAUTH_CLIENT_SECRET": "local-secret",
    "OTHERAUTH_CLIENT_ID": "local-client",
    "OTHERAUTH_SECRET": "local-secret",
}
REGISTRY = oauth_registry([*CATALOGUE, LOCAL, OTHER])


def bearer(user_id: str, **claims: Any) -> dict[str, str]:
    """A user's bearer token; extra claims as the platform's gateway would add them."""
    if not claims:
        return {"Authorization": f"Bearer {issue_dev_token(JWT_SECRET, user_id)}"}
    now = int(time.time())
    payload = {"sub": user_id, "iat": now, "exp": now + 600, **claims}
    key = OctKey.import_key(JWT_SECRET.encode())
    return {"Authorization": f"Bearer {jwt.encode({'alg': 'HS256'}, payload, key)}"}


@dataclass
class StoredTokens:
    command: StoreOAuthCredentials
    access_token: str
    refresh_token: str | None


class CredentialsStandIn:
    """Does what the credentials service does with the command: decrypts the tokens with the
    agreed associated data, keeps them, answers `CredentialsCreated` (unless told not to)."""

    def __init__(self, bus: Bus, *, group: str = "credentials-stand-in") -> None:
        self.bus = bus
        self.stored: dict[str, StoredTokens] = {}
        self.answering = True
        self._arrived = asyncio.Condition()
        bus.subscribe(topics.CREDENTIALS_COMMANDS, self.on_command, group=group)

    async def wait_for(self, credentials_id: str, *, timeout: float) -> StoredTokens:  # noqa: ASYNC109
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: credentials_id in self.stored)
        return self.stored[credentials_id]

    async def on_command(self, record: Record) -> None:
        command = decode_as(StoreOAuthCredentials, record.value)

        def open_(ciphertext: str, field: Any) -> str:
            data = transport_associated_data(command.user_id, command.credentials_id, field)
            return CREDENTIALS_CIPHER.decrypt_text(ciphertext, associated_data=data)

        refresh = command.refresh_token_ciphertext
        self.stored[command.credentials_id] = StoredTokens(
            command=command,
            access_token=open_(command.access_token_ciphertext, "access_token_ciphertext"),
            refresh_token=open_(refresh, "refresh_token_ciphertext") if refresh else None,
        )
        async with self._arrived:
            self._arrived.notify_all()
        if self.answering:
            created = CredentialsCreated(
                user_id=command.user_id,
                credentials_id=command.credentials_id,
                provider=command.provider,
                credentials_type="oauth2",
                title=command.title,
                scopes=command.scopes,
                username=command.username,
                command_id=command.command_id,
            )
            await self.bus.publish(topics.CREDENTIALS_EVENTS, created, source="/test/credentials")


@dataclass
class ManagedStandIn:
    """The credentials service's internal managed-credentials routes, as MockTransport."""

    secrets: dict[tuple[str, str], str] = field(default_factory=dict)
    status: int | None = None  # answer this instead, to test failures
    requests: list[httpx.Request] = field(default_factory=list)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.headers.get("authorization") != f"Bearer {SERVICE_TOKEN}":
            return httpx.Response(403)
        if self.status is not None:
            return httpx.Response(self.status)
        parts = request.url.raw_path.decode().split("/")  # /internal/users/{u}/managed/{n}
        key = (parts[3], parts[5])
        if request.method == "GET":
            secret = self.secrets.get(key)
            return (
                httpx.Response(404)
                if secret is None
                else httpx.Response(200, json={"secret": secret})
            )
        self.secrets[key] = json.loads(request.content)["secret"]
        return httpx.Response(204)


@dataclass
class AyrshareStandIn:
    """Ayrshare's profile API as a local app; `fail_*` makes a step answer that status."""

    fail_profile: int | None = None
    fail_jwt: int | None = None
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def app(self) -> Starlette:
        async def profiles(request: Request) -> Response:
            body = await request.json()
            self.calls.append(("profiles", body))
            if self.fail_profile:
                return JSONResponse({"status": "error"}, status_code=self.fail_profile)
            return JSONResponse({"status": "success", "profileKey": f"pk-{len(self.calls)}"})

        async def generate_jwt(request: Request) -> Response:
            body = await request.json()
            self.calls.append(("generateJWT", body))
            if self.fail_jwt:
                return JSONResponse({"status": "error"}, status_code=self.fail_jwt)
            return JSONResponse(
                {
                    "status": "success",
                    "token": "jwt",
                    "url": f"https://profile.ayrshare.test/?jwt=jwt&p={body['profileKey']}",
                }
            )

        def authorized(endpoint: Any) -> Any:
            async def checked(request: Request) -> Response:
                if request.headers.get("authorization") != "Bearer ayr-api-key":
                    return JSONResponse({"status": "error"}, status_code=401)
                return await endpoint(request)  # type: ignore[no-any-return]

            return checked

        return Starlette(
            routes=[
                Route("/api/profiles", authorized(profiles), methods=["POST"]),
                Route("/api/profiles/generateJWT", authorized(generate_jwt), methods=["POST"]),
            ]
        )


class RecordingDependencies(Dependencies):
    """Keeps the service's database at hand, so tests can look at what it stored."""

    opened: Database | None = None

    def database(self, name: str) -> Database:
        self.opened = super().database(name)
        return self.opened


@dataclass
class Service:
    client: httpx.AsyncClient
    bus: InMemoryBus
    database: Database
    provider: LocalAuthorizationServer
    credentials: CredentialsStandIn
    managed: ManagedStandIn
    ayrshare: AyrshareStandIn
    browser: httpx.AsyncClient  # reaches the provider's authorize page

    async def login(
        self, user_id: str, provider: str = "localauth", scopes: str = ""
    ) -> httpx.Response:
        params = {"scopes": scopes} if scopes else {}
        return await self.client.get(
            f"/api/integrations/{provider}/login", params=params, headers=bearer(user_id)
        )

    async def authorize(self, login_url: str) -> tuple[str, str]:
        """What the user's browser brings back from the provider: (code, state)."""
        response = await self.browser.get(login_url)
        assert response.status_code == 302, response.text
        location = response.headers["location"]
        assert location.startswith(REDIRECT_URI)
        query = parse_qs(urlsplit(location).query)
        return query["code"][0], query["state"][0]

    async def callback(
        self, user_id: str, code: str, state: str, provider: str = "localauth"
    ) -> httpx.Response:
        return await self.client.post(
            f"/api/integrations/{provider}/callback",
            json={"code": code, "state_token": state},
            headers=bearer(user_id),
        )

    async def connect(self, user_id: str, scopes: str = "") -> httpx.Response:
        login = await self.login(user_id, scopes=scopes)
        assert login.status_code == 200, login.text
        code, state = await self.authorize(login.json()["login_url"])
        return await self.callback(user_id, code, state)


def settings(**overrides: Any) -> OAuthSettings:
    values: dict[str, Any] = {
        "database_url": "memory://",
        "jwt_secret": SecretStr(JWT_SECRET),
        "service_token": SecretStr(SERVICE_TOKEN),
        "transport_keys": SecretStr(ROOT_RING.derive(Purpose.TRANSPORT).export()),
        "platform_base_url": PLATFORM,
        "credentials_internal_url": CREDENTIALS_URL,
        "confirmation_timeout_s": 2.0,
        "ayrshare_api_key": SecretStr("ayr-api-key"),
        "ayrshare_jwt_key": SecretStr("-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----"),
        "ayrshare_domain": "id-test",
        "ayrshare_base_url": AYRSHARE_URL,
    }
    return OAuthSettings(**{**values, **overrides})


@asynccontextmanager
async def running_service(
    *,
    clients: list[RegisteredClient] | None = None,
    clock: Any = None,
    ayrshare_transport: httpx.AsyncBaseTransport | None = None,
    **overrides: Any,
) -> AsyncIterator[Service]:
    provider = LocalAuthorizationServer(
        clients=clients or [RegisteredClient("local-client", "local-secret", (REDIRECT_URI,))],
        username="ada",
    )
    bus = InMemoryBus()
    credentials = CredentialsStandIn(bus)
    managed = ManagedStandIn()
    ayrshare = AyrshareStandIn()
    config = settings(**overrides)
    deps = RecordingDependencies(bus, config.database_url)
    seams: dict[str, Any] = {} if clock is None else {"clock": clock}
    unit = build(
        config,
        deps,
        registry=REGISTRY,
        env=ENV,
        provider_transport=httpx.ASGITransport(app=provider.app),
        ayrshare_transport=ayrshare_transport or httpx.ASGITransport(app=ayrshare.app()),
        credentials_transport=httpx.MockTransport(managed),
        **seams,
    )
    app = host_units(
        [unit], title="oauth", version="0", bus=bus, auth=config.auth_config(), closers=[deps.close]
    )
    async with (
        LifespanManager(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://oauth.test"
        ) as client,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=provider.app)) as browser,
    ):
        assert deps.opened is not None
        yield Service(client, bus, deps.opened, provider, credentials, managed, ayrshare, browser)
