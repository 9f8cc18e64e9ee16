"""SPEC RT-14: errors have one stable JSON shape and never leak secrets or stack traces."""

import httpx
import pytest
from fastapi import APIRouter
from pydantic import BaseModel

from integrations.web import ApiError, ErrorMapping, HealthChecks, build_app

pytestmark = pytest.mark.unit


class DatabaseDown(Exception):
    pass


class Body(BaseModel):
    api_key: str
    count: int


def make_client(health: HealthChecks | None = None) -> httpx.AsyncClient:
    router = APIRouter()

    @router.get("/teapot")
    async def teapot() -> None:
        raise ApiError(418, "short and stout", code="teapot")

    @router.get("/missing")
    async def missing() -> None:
        raise ApiError(404, "Credentials not found.")

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret-token-abc leaked in a message")

    @router.get("/db")
    async def db() -> None:
        raise DatabaseDown("mongodb://user:hunter2@db")

    @router.post("/things")
    async def things(body: Body) -> dict[str, int]:
        return {"count": body.count}

    app = build_app(
        title="t",
        version="0",
        health=health or HealthChecks(),
        routers=[router],
        error_mappings=[
            ErrorMapping(DatabaseDown, 503, "storage_unavailable", "The database is unavailable.")
        ],
    )
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
        base_url="http://test",
    )


async def test_api_error_keeps_its_status_code_and_message() -> None:
    async with make_client() as client:
        response = await client.get("/teapot")
    assert response.status_code == 418
    assert response.json() == {"error": {"code": "teapot", "message": "short and stout"}}


async def test_api_error_without_code_gets_one_from_its_status() -> None:
    async with make_client() as client:
        response = await client.get("/missing")
    assert response.json()["error"]["code"] == "not_found"


async def test_unknown_route_answers_in_the_same_shape() -> None:
    async with make_client() as client:
        response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


async def test_unexpected_error_is_a_500_without_its_message() -> None:
    async with make_client() as client:
        response = await client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "An internal error occurred."}
    }
    assert "secret-token-abc" not in response.text


async def test_mapped_dependency_failure_is_a_503_without_the_connection_string() -> None:
    async with make_client() as client:
        response = await client.get("/db")
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert "hunter2" not in response.text


async def test_invalid_body_is_a_422_with_field_errors_but_no_input_echo() -> None:
    async with make_client() as client:
        response = await client.post("/things", json={"api_key": "sk-live-xyz", "count": "many"})
    assert response.status_code == 422
    body = response.json()["error"]
    assert body["code"] == "invalid_request"
    assert body["details"][0]["loc"] == ["body", "count"]
    assert "sk-live-xyz" not in response.text


async def test_healthz_is_alive_even_when_not_ready() -> None:
    health = HealthChecks()

    async def broker() -> bool:
        return False

    health.add("broker", broker)
    async with make_client(health) as client:
        alive = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert alive.status_code == 200
    assert ready.status_code == 503
    assert ready.json() == {"status": "not_ready", "checks": {"broker": False}}


async def test_readyz_is_ready_when_every_check_passes_and_a_raising_check_fails() -> None:
    health = HealthChecks()

    async def ok() -> bool:
        return True

    async def raises() -> bool:
        raise ConnectionError("down")

    health.add("database", ok)
    async with make_client(health) as client:
        assert (await client.get("/readyz")).status_code == 200
        health.add("broker", raises)
        response = await client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "broker": False}
