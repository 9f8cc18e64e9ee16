"""Builders shared by the webhook tests (unit, contract, integration): a fake GitHub behind
httpx's MockTransport, credentials to register with, and a wired `WebhookContext`."""

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from pydantic import SecretStr

from integrations.auth import AuthConfig, issue_dev_token
from integrations.bus import Bus, InMemoryBus, Record
from integrations.contracts import (
    ActivateNodeTrigger,
    ActivatePresetTrigger,
    EventFilter,
    Message,
    WebhookEventReceived,
    WebhookState,
    decode,
    decode_as,
    topics,
)
from integrations.credentials.adapters.github import GithubWebhookManager
from integrations.credentials.adapters.provider_auth import StoredCredentialsAuth
from integrations.credentials.adapters.webhook_repository import (
    COLLECTION,
    DocumentWebhookRepository,
)
from integrations.credentials.domain.credentials import (
    APIKeyCredentials,
    Credentials,
    OAuth2Credentials,
)
from integrations.credentials.domain.errors import CredentialsNotFound
from integrations.credentials.entrypoints import webhook_routes
from integrations.credentials.webhook_context import WebhookContext, WebhookPolicy
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key
from integrations.providers import WebhookManager, default_registry
from integrations.runtime.hosting import host_units
from integrations.runtime.unit import ServiceUnit
from integrations.storage import Database

USER = "user-1"
OTHER_USER = "user-2"
CREDS = "cred-gh"
TOKEN = "gho_" + "t0ken" * 8
BASE_URL = "https://platform.example"
RING = KeyRing([generate_root_key()])
AT_REST = Cipher.from_key_ring(RING.export(), Purpose.CREDENTIALS)
STATE_CIPHER = Cipher.from_key_ring(RING.export(), Purpose.WEBHOOK_SECRETS)
PR_FILTER = EventFilter(
    input_name="events", event_format="pull_request.{event}", choices={"opened": True}
)

_HOOKS = re.compile(
    r"/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/hooks(?:/(?P<hook>[^/]+))?(?P<ping>/pings)?"
)


@dataclass
class FakeGitHub:
    """GitHub's repository hooks API, as far as the manager uses it.

    `on_ping` runs when a ping is asked for (a test makes it publish the ping delivery, as
    ingress would); `fail_with` makes every call answer that status.
    """

    hooks: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    fail_with: int | None = None
    on_ping: Callable[[str], Awaitable[None]] | None = None
    next_id: int = 1000

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport())

    @property
    def created(self) -> list[dict[str, Any]]:
        return [
            json.loads(r.content)
            for r in self.requests
            if r.method == "POST" and r.url.path.endswith("/hooks")
        ]

    async def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        self.calls.append((request.method, request.url.path))
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return httpx.Response(401, json={"message": "Bad credentials"})
        if self.fail_with is not None:
            return httpx.Response(self.fail_with, json={"message": "Validation Failed"})
        match = _HOOKS.fullmatch(request.url.path)
        if match is None:
            return httpx.Response(404, json={"message": "Not Found"})
        hook = match["hook"]
        if request.method == "POST" and hook is None:
            self.next_id += 1
            body = json.loads(request.content)
            config = {**body["config"], "secret": "********"}
            self.hooks[str(self.next_id)] = {**body, "config": config}
            return httpx.Response(201, json={"id": self.next_id, "config": config, "active": True})
        if hook is None or hook not in self.hooks:
            return httpx.Response(404, json={"message": "Not Found"})
        if request.method == "DELETE":
            del self.hooks[hook]
            return httpx.Response(204)
        if request.method == "POST" and match["ping"]:
            if self.on_ping is not None:
                await self.on_ping(hook)
            return httpx.Response(204)
        return httpx.Response(405)


@dataclass
class FakeCredentials:
    """What `reveal_credentials` would answer."""

    stored: dict[tuple[str, str], Credentials] = field(default_factory=dict)
    reads: int = 0

    def add(self, user_id: str = USER, credentials: Credentials | None = None) -> None:
        credentials = credentials or github_credentials()
        self.stored[(user_id, credentials.id)] = credentials

    async def reveal(self, user_id: str, credentials_id: str) -> Credentials:
        self.reads += 1
        try:
            return self.stored[(user_id, credentials_id)]
        except KeyError:
            raise CredentialsNotFound() from None


def github_credentials(credentials_id: str = CREDS) -> OAuth2Credentials:
    return OAuth2Credentials(
        id=credentials_id, provider="github", title="me", access_token=SecretStr(TOKEN)
    )


def api_key(credentials_id: str, provider: str = "github") -> APIKeyCredentials:
    return APIKeyCredentials(id=credentials_id, provider=provider, api_key=SecretStr(TOKEN))


def make_context(
    database: Database,
    bus: Bus,
    github: FakeGitHub,
    credentials: FakeCredentials,
    *,
    base_url: str = BASE_URL,
    policy: WebhookPolicy | None = None,
    managers: dict[str, WebhookManager] | None = None,
) -> WebhookContext:
    return WebhookContext(
        repository=DocumentWebhookRepository(database.collection(COLLECTION), AT_REST),
        bus=bus,
        managers=managers
        if managers is not None
        else {"github": GithubWebhookManager(http=github.client())},
        configs=default_registry().webhook_config,
        auth=StoredCredentialsAuth(credentials.reveal),
        state_cipher=STATE_CIPHER,
        platform_base_url=base_url,
        policy=policy or WebhookPolicy(ping_timeout_s=1.0, poll_s=0.01),
    )


def activate_node(
    node_id: str = "node-1",
    *,
    graph_id: str = "graph-1",
    user_id: str = USER,
    events: list[str] | None = None,
    resource: str = "octo/repo",
    credentials_id: str | None = CREDS,
    manual: bool = False,
    provider: str = "github",
    webhook_type: str = "repo",
    graph_version: int = 1,
) -> ActivateNodeTrigger:
    return ActivateNodeTrigger(
        user_id=user_id,
        provider=provider,
        webhook_type=webhook_type,
        resource=resource,
        events=events if events is not None else ["pull_request.opened"],
        credentials_id=credentials_id,
        manual=manual,
        graph_id=graph_id,
        graph_version=graph_version,
        node_id=node_id,
        filter=PR_FILTER,
    )


def activate_preset(
    preset_id: str = "preset-1",
    *,
    graph_id: str = "graph-2",
    user_id: str = USER,
    events: list[str] | None = None,
    manual: bool = False,
    provider: str = "github",
    webhook_type: str = "repo",
    credentials_id: str | None = CREDS,
) -> ActivatePresetTrigger:
    return ActivatePresetTrigger(
        user_id=user_id,
        provider=provider,
        webhook_type=webhook_type,
        resource="octo/repo" if provider == "github" else "",
        events=events if events is not None else ["pull_request.opened"],
        credentials_id=credentials_id,
        manual=manual,
        preset_id=preset_id,
        graph_id=graph_id,
        graph_version=2,
        trigger_node_id="trigger-node",
        inputs={"repo": "octo/repo", "a.b": {"$weird": 1}},
    )


def records(bus: InMemoryBus, topic: str) -> list[Record]:
    found = [record for partition in bus.log_of(topic) for record in partition]
    return sorted(found, key=lambda r: r.timestamp_ms)


def messages(bus: InMemoryBus, topic: str) -> list[Message]:
    return [decode(r.headers, r.value) for r in records(bus, topic) if r.value is not None]


def events_of(bus: InMemoryBus, kind: type[Message]) -> list[Any]:
    return [m for m in messages(bus, topics.TRIGGER_EVENTS) if isinstance(m, kind)]


def latest_states(bus: InMemoryBus) -> dict[str, WebhookState | None]:
    """The compacted topic as a view sees it: the latest record per key, None = tombstone."""
    latest: dict[str, WebhookState | None] = {}
    for partition in bus.log_of(topics.WEBHOOKS):
        for record in partition:
            assert record.key is not None
            latest[record.key] = (
                None if record.value is None else decode_as(WebhookState, record.value)
            )
    return latest


def ping_event(
    webhook_id: str, *, user_id: str = USER, event_type: str = "ping"
) -> WebhookEventReceived:
    return WebhookEventReceived(
        event_id=f"delivery-{webhook_id}-{event_type}",
        provider="github",
        webhook_id=webhook_id,
        user_id=user_id,
        event_type=event_type,
        payload={"zen": "Keep it logically awesome."},
        received_at=datetime.now(UTC),
    )


JWT_SECRET = "jwt-secret-for-webhook-tests-" + "k" * 20
SERVICE_TOKEN = "service-token-for-webhook-tests-" + "s" * 16
SERVICE_HEADERS = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


def user_headers(user_id: str = USER) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(JWT_SECRET, user_id)}"}


@asynccontextmanager
async def serve(ctx: WebhookContext, bus: InMemoryBus) -> AsyncIterator[httpx.AsyncClient]:
    """The webhook routes hosted as in production (error mappings, auth), in process."""
    unit = ServiceUnit(
        name="credentials",
        routers=[
            webhook_routes.build_user_router(ctx),
            webhook_routes.build_internal_router(ctx),
        ],
    )
    auth = AuthConfig.model_validate({"jwt_secret": JWT_SECRET, "service_token": SERVICE_TOKEN})
    app = host_units([unit], title="credentials", version="0", bus=bus, auth=auth)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client
