"""Raw routes answer ahead of FastAPI's stack; everything else still reaches FastAPI."""

import httpx
import pytest
from fastapi import APIRouter
from starlette.types import Receive, Scope, Send

from integrations.web.raw_routes import AsgiApiRoute, RawRoute, RawRoutingApp, documented

pytestmark = pytest.mark.unit


async def echo_params(scope: Scope, receive: Receive, send: Send) -> None:
    body = ",".join(f"{k}={v}" for k, v in sorted(scope["path_params"].items())).encode()
    await send({"type": "http.response.start", "status": 201, "headers": []})
    await send({"type": "http.response.body", "body": body})


def app_with(raw: bool) -> RawRoutingApp:
    app = RawRoutingApp()
    router = APIRouter(route_class=AsgiApiRoute)

    @router.post("/things/{kind}/items/{item_id}")
    @documented(echo_params)
    async def receive(kind: str, item_id: str) -> None:
        """Documented; answered by `echo_params`."""

    app.include_router(router)

    @app.get("/things/{kind}/items/{item_id}")
    async def read(kind: str, item_id: str) -> dict[str, str]:
        return {"read": f"{kind}/{item_id}"}

    if raw:
        app.raw_routes = (RawRoute("POST", "/things/{kind}/items/{item_id}", echo_params),)
    return app


@pytest.mark.parametrize("raw", [True, False])
async def test_the_route_answers_with_its_path_parameters_either_way(raw: bool) -> None:
    transport = httpx.ASGITransport(app=app_with(raw))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/things/a.b/items/x-1")
    assert response.status_code == 201
    assert response.text == "item_id=x-1,kind=a.b"


async def test_other_methods_and_paths_fall_through_to_fastapi() -> None:
    transport = httpx.ASGITransport(app=app_with(raw=True))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        read = await client.get("/things/a/items/1")
        nested = await client.post("/things/a/b/items/1")
    assert read.json() == {"read": "a/1"}
    # A segment never spans a slash: this path is FastAPI's to refuse.
    assert nested.status_code == 404


def test_the_route_is_documented_from_its_endpoint() -> None:
    document = app_with(raw=True).openapi()
    operation = document["paths"]["/things/{kind}/items/{item_id}"]["post"]
    assert {parameter["name"] for parameter in operation["parameters"]} == {"kind", "item_id"}


def test_a_route_without_an_app_is_refused() -> None:
    async def bare(kind: str) -> None: ...

    with pytest.raises(TypeError, match="needs an ASGI app"):
        AsgiApiRoute("/x/{kind}", bare)
