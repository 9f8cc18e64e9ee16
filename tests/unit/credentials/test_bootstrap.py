"""The composition root: keys are required, the routes and the commands subscriber are
wired, indexes exist, and commands that can never apply are skipped, not retried forever."""

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from integrations.bus import InMemoryBus
from integrations.contracts import CredentialsCreated, topics
from integrations.credentials.bootstrap import build
from integrations.credentials.config import CredentialsSettings
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from tests.unit.credentials.kit import (
    ALICE,
    ENV,
    JWT_SECRET,
    MARK,
    ROOT_RING,
    SERVICE_HEADERS,
    SERVICE_TOKEN,
    published,
    user_headers,
)
from tests.unit.credentials.test_handlers import store_command

pytestmark = pytest.mark.unit


def settings(**overrides: Any) -> CredentialsSettings:
    values: dict[str, Any] = {
        "database_url": "memory://",
        "encryption_keys": ROOT_RING.export(),
        "jwt_secret": JWT_SECRET,
        "service_token": SERVICE_TOKEN,
    }
    return CredentialsSettings(**(values | overrides))


def test_refuses_to_start_without_encryption_keys() -> None:
    with pytest.raises(ValueError, match="ENCRYPTION_KEYS"):
        build(settings(encryption_keys=None), Dependencies(InMemoryBus(), "memory://"))


@dataclass
class Service:
    client: httpx.AsyncClient
    bus: InMemoryBus


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    bus = InMemoryBus(redelivery_delay_s=0.01)
    chosen = settings()
    deps = Dependencies(bus, chosen.database_url)
    unit = build(chosen, deps, env=ENV)
    app = host_units(
        [unit],
        title="credentials",
        version="0",
        bus=bus,
        auth=chosen.auth_config(),
        closers=[deps.close],
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield Service(client, bus)


async def test_serves_providers_credentials_and_internal_routes(service: Service) -> None:
    ready = await service.client.get("/readyz")
    assert ready.json()["checks"]["credentials.database"] is True
    providers = await service.client.get("/api/integrations/providers")
    mine = await service.client.get("/api/integrations/credentials", headers=user_headers(ALICE))
    internal = await service.client.get(
        f"/internal/users/{ALICE}/credentials/nope", headers=SERVICE_HEADERS
    )
    assert (providers.status_code, mine.status_code, internal.status_code) == (200, 200, 404)


async def test_stores_oauth_credentials_from_the_commands_topic_and_skips_poison(
    service: Service, caplog: pytest.LogCaptureFixture
) -> None:
    """DESIGN §4 OAuth connect: the command lands, its confirmation event is published;
    undecodable and unopenable commands are logged and skipped (no endless redelivery)."""
    caplog.set_level(logging.INFO)
    bus = service.bus
    await bus.publish_raw(topics.CREDENTIALS_COMMANDS, ALICE, b"not json")
    moved = store_command(
        "oauth-0", access_token_ciphertext=store_command().access_token_ciphertext
    )
    await bus.publish(topics.CREDENTIALS_COMMANDS, moved, source="/test")
    good = store_command()
    await bus.publish(topics.CREDENTIALS_COMMANDS, good, source="/test")
    await bus.publish(topics.CREDENTIALS_COMMANDS, good, source="/test")  # redelivered copy
    await bus.drain()

    events = [e for e in published(bus) if isinstance(e, CredentialsCreated)]
    assert [(e.credentials_id, e.command_id) for e in events] == [
        ("oauth-1", good.command_id),
        ("oauth-1", good.command_id),
    ]
    listed = await service.client.get(
        "/api/integrations/github/credentials", headers=user_headers(ALICE)
    )
    assert [c["id"] for c in listed.json()] == ["oauth-1"]
    skipped = [r for r in caplog.records if r.getMessage() == "credentials command skipped"]
    assert len(skipped) == 2
    assert MARK not in caplog.text
