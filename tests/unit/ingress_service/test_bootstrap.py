"""The composed service on the in-memory bus: view from the topic, read-through on a miss."""

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pydantic import SecretStr, ValidationError

from integrations.auth import AuthConfig
from integrations.bus import InMemoryBus
from integrations.contracts import WebhookState, topics
from integrations.crypto import Purpose
from integrations.ingress.bootstrap import SERVICE, build
from integrations.ingress.config import IngressSettings
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from tests.unit.ingress_service.fixtures import PR_BODY, ROOT_RING, github_headers, webhook

pytestmark = pytest.mark.unit

SERVICE_TOKEN = secrets.token_urlsafe(32)


@dataclass
class Service:
    client: httpx.AsyncClient
    bus: InMemoryBus
    credentials_calls: list[httpx.Request]
    credentials_knows: dict[str, WebhookState]

    async def post(self, webhook_id: str, provider: str = "github") -> httpx.Response:
        return await self.client.post(
            f"/api/integrations/{provider}/webhooks/{webhook_id}/ingress",
            content=PR_BODY,
            headers=github_headers(PR_BODY),
        )


def settings(**overrides: object) -> IngressSettings:
    values: dict[str, object] = {
        "webhook_secret_keys": ROOT_RING.derive(Purpose.WEBHOOK_SECRETS).export(),
        "service_token": SERVICE_TOKEN,
        "credentials_internal_url": "http://credentials",
        **overrides,
    }
    return SERVICE.load_settings(**values)


@pytest.fixture
async def service() -> AsyncIterator[Service]:
    bus = InMemoryBus()
    calls: list[httpx.Request] = []
    knows: dict[str, WebhookState] = {}

    def credentials(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        state = knows.get(request.url.path.rsplit("/", 1)[-1])
        if state is None:
            return httpx.Response(404, json={"error": {"code": "not_found", "message": "-"}})
        return httpx.Response(200, content=state.model_dump_json())

    unit = build(
        settings(),
        Dependencies(bus, "sqlite:///unused.db"),
        credentials_transport=httpx.MockTransport(credentials),
    )
    app = host_units(
        [unit],
        title="ingress",
        version="0",
        bus=bus,
        auth=AuthConfig(jwt_secret=SecretStr(secrets.token_urlsafe(32))),
    )
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client,
    ):
        yield Service(client, bus, calls, knows)


async def test_is_ready_once_the_view_has_caught_up(service: Service) -> None:
    await service.bus.drain()
    response = await service.client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["checks"]["ingress.webhooks_view"] is True


async def test_accepts_a_webhook_from_the_topic_without_asking_credentials(
    service: Service,
) -> None:
    await service.bus.publish(topics.WEBHOOKS, webhook("wh-topic"), source="/test")
    await service.bus.drain()

    response = await service.post("wh-topic")

    assert response.status_code == 200, response.text
    assert service.credentials_calls == []
    [record] = [r for p in service.bus.log_of(topics.WEBHOOK_EVENTS) for r in p]
    assert json.loads(record.value or b"")["webhook_id"] == "wh-topic"


async def test_a_tombstoned_webhook_is_404(service: Service) -> None:
    await service.bus.publish(topics.WEBHOOKS, webhook("wh-gone"), source="/test")
    await service.bus.publish(topics.WEBHOOKS, None, key="wh-gone", source="/test")
    await service.bus.drain()

    response = await service.post("wh-gone")

    assert response.status_code == 404
    [call] = service.credentials_calls  # the view missed; credentials confirmed it is gone
    assert call.headers["authorization"] == f"Bearer {SERVICE_TOKEN}"


async def test_a_webhook_the_view_has_not_seen_yet_is_read_through_once(service: Service) -> None:
    service.credentials_knows["wh-fresh"] = webhook("wh-fresh")

    first = await service.post("wh-fresh")
    second = await service.post("wh-fresh")

    assert (first.status_code, second.status_code) == (200, 200)
    assert [call.url.path for call in service.credentials_calls] == ["/internal/webhooks/wh-fresh"]


def test_refuses_to_start_without_the_webhook_secret_keys() -> None:
    with pytest.raises(ValueError, match="WEBHOOK_SECRET_KEYS"):
        build(settings(webhook_secret_keys=None), Dependencies(InMemoryBus(), "sqlite:///x.db"))


def test_the_body_limit_must_fit_the_topics_record_limit() -> None:
    assert settings().max_body_bytes == 5 * 1024 * 1024
    with pytest.raises(ValidationError, match="max_body_bytes"):
        settings(max_body_bytes=8 * 1024 * 1024)
