from collections.abc import Callable

from fastapi import APIRouter, Response

from integrations.telemetry import METRICS_CONTENT_TYPE

Render = Callable[[], bytes]


def metrics_router(render: Render) -> APIRouter:
    """`GET /metrics` for Prometheus.

    Unauthenticated, as scrapers expect; it carries no secrets but does reveal traffic by
    provider, so the public proxy must not route it (docs/operations.md).
    """
    router = APIRouter(tags=["health"])

    # Hidden from the OpenAPI document: it is for the cluster's scraper, not API clients.
    @router.get("/metrics", include_in_schema=False)
    async def prometheus_metrics() -> Response:
        return Response(render(), media_type=METRICS_CONTENT_TYPE)

    return router
