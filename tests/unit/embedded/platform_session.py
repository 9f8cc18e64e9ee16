"""The first-webhook path on the embedded platform, shared by the observability tests."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from integrations.embedded.app import EmbeddedPlatform, build_embedded_platform

SERVICE_USER = "dev-user"


@dataclass(frozen=True)
class Session:
    platform: EmbeddedPlatform
    client: httpx.AsyncClient
    service_headers: dict[str, str]


@asynccontextmanager
async def embedded_session(data_dir: Path) -> AsyncIterator[Session]:
    platform = build_embedded_platform(data_dir)
    async with (
        LifespanManager(platform.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=platform.app), base_url="http://test"
        ) as client,
    ):
        yield Session(
            platform,
            client,
            {"Authorization": f"Bearer {platform.secrets.service_token}"},
        )


async def activate_manual_webhook(session: Session, provider: str = "generic_webhook") -> str:
    """A manual webhook with one trigger; returns its ingress path."""
    activated = await session.client.post(
        "/internal/triggers/activate-node",
        headers=session.service_headers,
        json={
            "user_id": SERVICE_USER,
            "provider": provider,
            "webhook_type": "plain",
            "resource": "",
            "events": ["plain"],
            "manual": True,
            "graph_id": "my-graph",
            "graph_version": 1,
            "node_id": f"{provider}-trigger",
        },
    )
    assert activated.status_code == 200, activated.text
    return httpx.URL(activated.json()["ingress_url"]).path


async def settle(session: Session) -> None:
    """Until every in-memory consumer has handled everything published so far."""
    await session.platform.bus.drain(timeout=5.0)
    await asyncio.sleep(0)
