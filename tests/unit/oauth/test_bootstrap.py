"""The composition root: what it refuses, what it serves."""

import pytest
from pydantic import SecretStr

from integrations.bus import InMemoryBus
from integrations.oauth.bootstrap import SERVICE, build
from integrations.runtime.definition import Dependencies

from .kit import ROOT_RING, running_service, settings

pytestmark = pytest.mark.unit


def test_it_refuses_to_start_without_the_transport_keys() -> None:
    with pytest.raises(ValueError, match="TRANSPORT_KEYS"):
        build(settings(transport_keys=None), Dependencies(InMemoryBus(), "memory://"))


def test_it_accepts_the_root_ring_as_the_embedded_default_does() -> None:
    unit = build(
        settings(transport_keys=SecretStr(ROOT_RING.export())),
        Dependencies(InMemoryBus(), "memory://"),
    )
    assert unit.name == SERVICE.name == "oauth"
    paths = {route.path for router in unit.routers for route in router.routes}  # type: ignore[attr-defined]
    assert paths == {
        "/api/integrations/{provider}/login",
        "/api/integrations/{provider}/callback",
        "/api/integrations/ayrshare/sso_url",
    }


async def test_it_is_ready_with_its_database() -> None:
    async with running_service() as service:
        response = await service.client.get("/readyz")

    assert response.status_code == 200
    assert response.json()["checks"]["oauth.database"] is True
