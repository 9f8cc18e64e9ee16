"""The internal lease routes (SPEC CM-2, CM-6), hosted as in production, in process."""

from collections.abc import AsyncIterator

import httpx
import pytest
from asgi_lifespan import LifespanManager

from integrations.bus import InMemoryBus
from integrations.credentials.entrypoints import lease_routes
from integrations.runtime.hosting import host_units
from integrations.runtime.unit import ServiceUnit
from tests.unit.credentials.kit import MARK, SERVICE_HEADERS, auth_config
from tests.unit.credentials_refresh.kit import USER, FakeClock, FakeProvider, Replica, expiring

pytestmark = pytest.mark.unit

LEASES = f"/internal/users/{USER}/credentials/gh-1/leases"


@pytest.fixture
async def client(service: Replica, bus: InMemoryBus) -> AsyncIterator[httpx.AsyncClient]:
    unit = ServiceUnit(
        name="credentials", routers=[lease_routes.build_router(service.credential_leases)]
    )
    app = host_units([unit], title="credentials", version="0", bus=bus, auth=auth_config())
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        yield client


async def test_acquire_answers_the_credentials_in_clear_with_the_lease(
    client: httpx.AsyncClient, service: Replica, clock: FakeClock, provider: FakeProvider
) -> None:
    """SPEC CM-2: the credential (refreshed, CM-1) with its lease id and expiry."""
    await service.repository.add(USER, expiring(expires_in=10, clock=clock))

    response = await client.post(LEASES, json={"ttl_s": 45}, headers=SERVICE_HEADERS)

    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    grant = response.json()
    assert grant["expires_at"] == clock.now + 45
    assert grant["lease_id"]
    assert grant["credentials"]["access_token"] == f"access-1-{MARK}"
    assert grant["credentials"]["refresh_token"] == f"refresh-1-{MARK}"
    assert len(provider.calls) == 1


async def test_a_held_credential_answers_409_in_use_and_release_frees_it(
    client: httpx.AsyncClient, service: Replica, clock: FakeClock
) -> None:
    await service.repository.add(USER, expiring(expires_in=3600, clock=clock))
    lease_id = (await client.post(LEASES, headers=SERVICE_HEADERS)).json()["lease_id"]

    busy = await client.post(LEASES, json={"wait_s": 0.02}, headers=SERVICE_HEADERS)
    assert busy.status_code == 409
    assert busy.json()["error"]["code"] == "credentials_in_use"
    assert busy.headers["retry-after"] == "1"

    released = await client.delete(f"{LEASES}/{lease_id}", headers=SERVICE_HEADERS)
    assert released.json() == {"released": True}
    again = await client.delete(f"{LEASES}/{lease_id}", headers=SERVICE_HEADERS)
    assert again.json() == {"released": False}
    assert (await client.post(LEASES, headers=SERVICE_HEADERS)).status_code == 200


async def test_heartbeat_extends_and_a_lapsed_lease_answers_409_lost(
    client: httpx.AsyncClient, service: Replica, clock: FakeClock
) -> None:
    """SPEC CM-6: a holder that stops heartbeating loses the lease."""
    await service.repository.add(USER, expiring(expires_in=3600, clock=clock))
    lease_id = (await client.post(LEASES, json={"ttl_s": 30}, headers=SERVICE_HEADERS)).json()[
        "lease_id"
    ]

    clock.advance(20)
    beat = await client.post(
        f"{LEASES}/{lease_id}/heartbeat", json={"ttl_s": 30}, headers=SERVICE_HEADERS
    )
    assert beat.json() == {"lease_id": lease_id, "expires_at": clock.now + 30}

    clock.advance(31)
    lost = await client.post(f"{LEASES}/{lease_id}/heartbeat", headers=SERVICE_HEADERS)
    assert lost.status_code == 409
    assert lost.json()["error"]["code"] == "lease_lost"


async def test_an_unknown_credential_answers_404(client: httpx.AsyncClient) -> None:
    """SPEC CM-2: unknown credential → not found."""
    response = await client.post(LEASES, headers=SERVICE_HEADERS)

    assert response.status_code == 404


async def test_an_expired_credential_that_cannot_be_refreshed_needs_reauthorization(
    client: httpx.AsyncClient, service: Replica, clock: FakeClock, provider: FakeProvider
) -> None:
    from integrations.credentials.domain.refresh import RefreshRejected

    provider.refusal = RefreshRejected(
        "token endpoint answered 400 (invalid_grant)", reauthorize=True
    )
    await service.repository.add(USER, expiring(expires_in=-5, clock=clock))

    response = await client.post(LEASES, headers=SERVICE_HEADERS)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "reauthorization_required"
    assert await service.leases.release_all() == 0
    assert (
        await client.post(LEASES, json={"wait_s": 0}, headers=SERVICE_HEADERS)
    ).status_code == 409


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}])
async def test_the_routes_need_the_service_token(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    for response in [
        await client.post(LEASES, headers=headers),
        await client.post(f"{LEASES}/x/heartbeat", headers=headers),
        await client.delete(f"{LEASES}/x", headers=headers),
    ]:
        assert response.status_code in (401, 403)


async def test_out_of_range_ttls_are_refused(client: httpx.AsyncClient) -> None:
    response = await client.post(LEASES, json={"ttl_s": 0}, headers=SERVICE_HEADERS)

    assert response.status_code == 422
