from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import APIRouter, FastAPI

from integrations.web.errors import ErrorBody, ErrorMapping, Refusal, install_error_handlers
from integrations.web.health import HealthChecks
from integrations.web.metrics import Render, metrics_router
from integrations.web.raw_routes import RawRoute, RawRoutingApp

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]

API_PREFIX = "/api/integrations"

_ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in [
        (400, "Bad request"),
        (401, "Missing or invalid bearer token"),
        (404, "Not found"),
        (422, "Invalid request"),
        (500, "Internal error"),
        (503, "A dependency (broker or database) is unavailable"),
    ]
}


def build_app(
    *,
    title: str,
    version: str,
    health: HealthChecks,
    routers: Sequence[APIRouter] = (),
    raw_routes: Sequence[RawRoute] = (),
    lifespan: Lifespan | None = None,
    error_mappings: Sequence[ErrorMapping] = (),
    metrics: Render | None = None,
    refusal: Refusal | None = None,
) -> FastAPI:
    app = RawRoutingApp(
        title=title,
        version=version,
        lifespan=lifespan,
        responses=_ERROR_RESPONSES,
        # One server span per request is the trace; a span per route operation on top of it
        # doubled the tracing cost of the hot ingress path for no extra information.
        telemetry={"operation_spans": False},
    )
    app.raw_routes = tuple(raw_routes)
    install_error_handlers(app, error_mappings, refusal=refusal)
    app.include_router(health.router())
    if metrics is not None:
        app.include_router(metrics_router(metrics))
    for router in routers:
        app.include_router(router)
    return app
