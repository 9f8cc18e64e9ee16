"""Each service's own app, as `integrations serve` composes it, on the in-memory bus and a
SQLite store, with every outbound HTTP client answered in process (nothing leaves the test).

User tokens must name `AUDIENCE`, so the audience check is on for every service."""

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final, NamedTuple

import httpx
from fastapi import FastAPI

from integrations.auth import issue_dev_token
from integrations.bus import InMemoryBus
from integrations.catalog import SERVICES
from integrations.contracts import WebhookState
from integrations.credentials.bootstrap import build as build_credentials
from integrations.crypto import Cipher, KeyRing, Purpose
from integrations.dispatcher.bootstrap import build as build_dispatcher
from integrations.embedded.app import service_overrides
from integrations.embedded.dev_secrets import DevSecrets, generate
from integrations.ingress.bootstrap import build as build_ingress
from integrations.oauth.bootstrap import build as build_oauth
from integrations.providers import default_registry
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from integrations.runtime.settings import CommonSettings
from integrations.runtime.unit import ServiceUnit

SERVICE_NAMES: Final = tuple(SERVICES)
OPENAPI_FOLDER: Final = Path(__file__).resolve().parents[3] / "docs" / "openapi"
AUDIENCE: Final = "integrations-platform"
BASE_URL: Final = "http://platform.test"


WEBHOOK_PROVIDERS: Final = tuple(
    name for name in default_registry().names() if default_registry().webhook_config(name)
)
# A Standard Webhooks key (`whsec_` + base64) is also a fine secret for every other scheme.
WEBHOOK_SECRET: Final = "whsec_ZnV6emluZy13ZWJob29rLXNlY3JldC0w"


def known_webhook_id(provider: str) -> str:
    """The id under which ingress's read-through finds a webhook of `provider`."""
    return f"{KNOWN_PREFIX}{provider}"


KNOWN_PREFIX: Final = "known-"


def _nobody_home(request: httpx.Request) -> httpx.Response:
    """Every provider, Ayrshare and the credentials service's internal API: nothing known."""
    return httpx.Response(404, json={"error": {"code": "not_found", "message": "Not found."}})


def _transport() -> httpx.AsyncBaseTransport:
    return httpx.MockTransport(_nobody_home)


def _credentials_for_ingress(secrets: DevSecrets) -> httpx.AsyncBaseTransport:
    """The internal webhook route as credentials answers it: one known webhook per provider
    (`known_webhook_id`), every other id unknown."""
    ring = KeyRing.parse(secrets.key_ring).derive(Purpose.WEBHOOK_SECRETS).export()
    cipher = Cipher.from_key_ring(ring, Purpose.WEBHOOK_SECRETS)

    def answer(request: httpx.Request) -> httpx.Response:
        webhook_id = request.url.path.rsplit("/", 1)[-1]
        provider = webhook_id.removeprefix(KNOWN_PREFIX)
        if not webhook_id.startswith(KNOWN_PREFIX) or provider not in WEBHOOK_PROVIDERS:
            return _nobody_home(request)
        state = WebhookState(
            webhook_id=webhook_id,
            user_id="webhook-owner",
            provider=provider,
            webhook_type="plain",
            resource="",
            events=["plain"],
            secret_ciphertext=cipher.encrypt_text(
                WEBHOOK_SECRET, associated_data=webhook_id.encode()
            ),
            provider_webhook_id="",
            manual=True,
            ingress_url=f"{BASE_URL}/api/integrations/{provider}/webhooks/{webhook_id}/ingress",
            version=1,
            updated_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
        return httpx.Response(200, content=state.model_dump_json())

    return httpx.MockTransport(answer)


Builder = Callable[[CommonSettings, Dependencies, DevSecrets], ServiceUnit]


def _builders() -> dict[str, Builder]:
    def ingress(settings: CommonSettings, deps: Dependencies, secrets: DevSecrets) -> ServiceUnit:
        assert isinstance(settings, SERVICES["ingress"].settings_class)
        transport = _credentials_for_ingress(secrets)
        return build_ingress(settings, deps, credentials_transport=transport)

    def credentials(settings: CommonSettings, deps: Dependencies, _: DevSecrets) -> ServiceUnit:
        assert isinstance(settings, SERVICES["credentials"].settings_class)
        return build_credentials(settings, deps, env={}, provider_transport=_transport())

    def oauth(settings: CommonSettings, deps: Dependencies, _: DevSecrets) -> ServiceUnit:
        assert isinstance(settings, SERVICES["oauth"].settings_class)
        return build_oauth(
            settings,
            deps,
            env={},
            provider_transport=_transport(),
            ayrshare_transport=_transport(),
            credentials_transport=_transport(),
        )

    def dispatcher(settings: CommonSettings, deps: Dependencies, _: DevSecrets) -> ServiceUnit:
        assert isinstance(settings, SERVICES["dispatcher"].settings_class)
        return build_dispatcher(settings, deps)

    return {
        "ingress": ingress,
        "credentials": credentials,
        "oauth": oauth,
        "dispatcher": dispatcher,
    }


@dataclass(frozen=True)
class ServiceApp:
    name: str
    app: FastAPI
    bus: InMemoryBus
    secrets: DevSecrets

    def user_token(self, user_id: str, *, ttl: timedelta = timedelta(hours=1)) -> str:
        return issue_dev_token(self.secrets.jwt_secret, user_id, ttl, audience=AUDIENCE)

    def user_headers(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.user_token(user_id)}"}

    @property
    def service_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.service_token}"}


def service_app(name: str, *, bus: InMemoryBus | None = None) -> ServiceApp:
    """Service `name` alone; its lifespan (bus, consumers, databases) is the caller's to run."""
    secrets = generate()
    # The embedded host's keys and URLs, but an in-memory store: nothing touches the disk.
    overrides = service_overrides(name, Path(), BASE_URL, secrets) | {
        "database_url": "memory://",
        "jwt_audience": AUDIENCE,
    }
    settings = SERVICES[name].load_settings(**overrides)
    bus = bus or InMemoryBus(redelivery_delay_s=0.05)
    deps = Dependencies(bus, settings.database_url)
    unit = _builders()[name](settings, deps, secrets)
    app = host_units(
        [unit],
        title=f"Integrations {name} service",
        version="test",
        bus=bus,
        auth=settings.auth_config(),
        closers=[deps.close],
    )
    return ServiceApp(name=name, app=app, bus=bus, secrets=secrets)


class DocumentedOperation(NamedTuple):
    service: str
    method: str
    path: str
    security: tuple[str, ...]  # the names of the schemes it takes: UserJWT, ServiceToken


def _documented_operations() -> list[DocumentedOperation]:
    """Every operation of every service's document in docs/openapi."""
    found = []
    for name in SERVICE_NAMES:
        document = json.loads((OPENAPI_FOLDER / f"{name}.json").read_text())
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                schemes = tuple(s for entry in operation.get("security", []) for s in entry)
                found.append(DocumentedOperation(name, method.upper(), path, schemes))
    return found


OPERATIONS: Final = _documented_operations()
