"""Builders the credentials service's unit tests share: keys, credentials with marker
secrets, a context over in-memory SQLite and the in-memory bus, the HTTP app."""

from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from integrations.auth import AuthConfig, issue_dev_token
from integrations.bus import InMemoryBus, Record
from integrations.contracts import decode, topics
from integrations.contracts.messages.base import Message
from integrations.credentials.adapters.credentials_repository import (
    COLLECTION,
    DocumentCredentialsRepository,
)
from integrations.credentials.adapters.managed_repository import (
    COLLECTION as MANAGED_COLLECTION,
)
from integrations.credentials.adapters.managed_repository import (
    DocumentManagedCredentialsRepository,
)
from integrations.credentials.context import CredentialsContext
from integrations.credentials.domain.credentials import (
    APIKeyCredentials,
    Credentials,
    HostScopedCredentials,
    OAuth2Credentials,
    UserPasswordCredentials,
)
from integrations.credentials.domain.ports import CredentialsRepository
from integrations.credentials.domain.system import SystemCredentials
from integrations.credentials.entrypoints import (
    credentials_routes,
    internal_routes,
    managed_routes,
)
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key
from integrations.providers import ProviderRegistry, default_registry, system_credential_id
from integrations.runtime.hosting import host_units
from integrations.runtime.unit import ServiceUnit
from integrations.storage import Database

ROOT_RING: Final = KeyRing([generate_root_key("k1")])
AT_REST: Final = Cipher.from_key_ring(ROOT_RING.export(), Purpose.CREDENTIALS)
TRANSPORT: Final = Cipher.from_key_ring(ROOT_RING.export(), Purpose.TRANSPORT)

JWT_SECRET: Final = "unit-test-jwt-secret-0123456789abcdef0123"
SERVICE_TOKEN: Final = "unit-test-service-token-0123456789abcdef"

# Every secret in these tests carries this marker, so a scan for it finds any leak.
MARK: Final = "S3CRET-MARKER"
OPENAI_SYSTEM_KEY: Final = f"sk-system-openai-{MARK}"
ENV: Final[Mapping[str, str]] = {"OPENAI_API_KEY": OPENAI_SYSTEM_KEY}
OPENAI_SYSTEM_ID: Final = system_credential_id("openai")
OLLAMA_SYSTEM_ID: Final = system_credential_id("ollama")

ALICE: Final = "alice"
BOB: Final = "bob"


def secret(name: str) -> SecretStr:
    return SecretStr(f"{name}-{MARK}")


def oauth2(credentials_id: str = "gh-1", **changes: Any) -> OAuth2Credentials:
    fields: dict[str, Any] = {
        "id": credentials_id,
        "provider": "github",
        "title": "My GitHub",
        "username": "octocat",
        "access_token": secret("access"),
        "access_token_expires_at": 2_000_000_000,
        "refresh_token": secret("refresh"),
        "refresh_token_expires_at": None,
        "scopes": ["repo", "read:user"],
        "metadata": {"installation.id": 7, "$odd": True},
    }
    return OAuth2Credentials(**(fields | changes))


def api_key(credentials_id: str = "oa-1", **changes: Any) -> APIKeyCredentials:
    fields: dict[str, Any] = {
        "id": credentials_id,
        "provider": "openai",
        "title": "My OpenAI key",
        "api_key": secret("api-key"),
        "expires_at": None,
    }
    return APIKeyCredentials(**(fields | changes))


def user_password(credentials_id: str = "up-1", **changes: Any) -> UserPasswordCredentials:
    fields: dict[str, Any] = {
        "id": credentials_id,
        "provider": "webshare_proxy",
        "title": "Proxy",
        "username": secret("user"),
        "password": secret("password"),
    }
    return UserPasswordCredentials(**(fields | changes))


def host_scoped(credentials_id: str = "hs-1", **changes: Any) -> HostScopedCredentials:
    fields: dict[str, Any] = {
        "id": credentials_id,
        "provider": "http",
        "title": "Internal API",
        "host": "api.example.com",
        "headers": {"Authorization": secret("bearer"), "X-Api.Key": secret("header")},
    }
    return HostScopedCredentials(**(fields | changes))


def every_kind() -> list[Credentials]:
    return [oauth2(), api_key(), user_password(), host_scoped()]


def body(credentials: Credentials) -> dict[str, Any]:
    """The JSON a client sends: secrets in clear."""
    dumped = credentials.model_dump(mode="json")
    for name, value in credentials:
        if isinstance(value, SecretStr):
            dumped[name] = value.get_secret_value()
        elif name == "headers":
            dumped[name] = {k: v.get_secret_value() for k, v in value.items()}
    return dumped


def make_context(
    database: Database,
    bus: InMemoryBus,
    *,
    env: Mapping[str, str] = ENV,
    registry: ProviderRegistry | None = None,
    repository: CredentialsRepository | None = None,
    **seams: Any,
) -> CredentialsContext:
    registry = registry or default_registry()
    return CredentialsContext(
        repository=repository
        or DocumentCredentialsRepository(database.collection(COLLECTION), AT_REST),
        managed=DocumentManagedCredentialsRepository(
            database.collection(MANAGED_COLLECTION), AT_REST
        ),
        bus=bus,
        system=SystemCredentials(env, registry),
        registry=registry,
        transport=TRANSPORT,
        **seams,
    )


def published(bus: InMemoryBus, topic: str = topics.CREDENTIALS_EVENTS) -> list[Message]:
    records: list[Record] = [r for partition in bus.log_of(topic) for r in partition]
    records.sort(key=lambda r: r.timestamp_ms)
    return [decode(r.headers, r.value) for r in records]


def raw_events(bus: InMemoryBus) -> list[bytes]:
    return [r.value or b"" for p in bus.log_of(topics.CREDENTIALS_EVENTS) for r in p]


@dataclass
class FakeWebhooks:
    """`WebhookUsage` whose answer a test sets."""

    used: set[tuple[str, str]] = field(default_factory=set)
    released: list[tuple[str, str]] = field(default_factory=list)

    async def in_use(self, user_id: str, credentials_id: str) -> bool:
        return (user_id, credentials_id) in self.used

    async def release(self, user_id: str, credentials_id: str) -> None:
        self.released.append((user_id, credentials_id))
        self.used.discard((user_id, credentials_id))


@dataclass
class FakeRevoker:
    answer: bool | None = True
    revoked: list[str] = field(default_factory=list)

    async def revoke(self, credentials: OAuth2Credentials) -> bool | None:
        self.revoked.append(credentials.id)
        return self.answer


@dataclass
class RecordingLocks:
    """`CredentialLocks` that takes no lock but records who asked (and when)."""

    taken: list[tuple[str, str]] = field(default_factory=list)
    held: set[tuple[str, str]] = field(default_factory=set)

    def exclusive(self, user_id: str, credentials_id: str) -> AbstractAsyncContextManager[None]:
        return self._exclusive((user_id, credentials_id))

    @asynccontextmanager
    async def _exclusive(self, key: tuple[str, str]) -> AsyncIterator[None]:
        self.taken.append(key)
        self.held.add(key)
        try:
            yield
        finally:
            self.held.discard(key)


def auth_config() -> AuthConfig:
    return AuthConfig.model_validate({"jwt_secret": JWT_SECRET, "service_token": SERVICE_TOKEN})


def user_headers(user_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(JWT_SECRET, user_id)}"}


SERVICE_HEADERS: Final = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


@asynccontextmanager
async def http_client(
    ctx: CredentialsContext, bus: InMemoryBus
) -> AsyncIterator[httpx.AsyncClient]:
    """The credentials routes hosted as in production (error mappings, auth), in process."""
    unit = ServiceUnit(
        name="credentials",
        routers=[
            credentials_routes.build_router(ctx),
            internal_routes.build_router(ctx),
            managed_routes.build_router(ctx),
        ],
    )
    app = host_units([unit], title="credentials", version="0", bus=bus, auth=auth_config())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client
