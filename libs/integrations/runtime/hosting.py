"""Turn composed ServiceUnits into one FastAPI app whose lifespan starts and stops them."""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from integrations.auth import (
    AuthConfig,
    authentication_refusal,
    build_authenticator,
    install_authenticator,
)
from integrations.bus import Bus, BusUnavailable
from integrations.runtime.unit import ServiceUnit
from integrations.storage import StorageUnavailable
from integrations.telemetry import render_metrics
from integrations.web import ErrorMapping, HealthChecks, build_app

log = logging.getLogger(__name__)

Closer = Callable[[], Awaitable[None]]

DEPENDENCY_ERRORS = (
    ErrorMapping(
        StorageUnavailable,
        503,
        "storage_unavailable",
        "The database is unavailable; retry shortly.",
        {"Retry-After": "5"},
    ),
    ErrorMapping(
        BusUnavailable,
        503,
        "broker_unavailable",
        "The message broker is unavailable; retry shortly.",
        {"Retry-After": "5"},
    ),
)


def host_units(
    units: Sequence[ServiceUnit],
    *,
    title: str,
    version: str,
    bus: Bus,
    auth: AuthConfig,
    closers: Sequence[Closer] = (),
) -> FastAPI:
    """One app for one unit (a standalone service) or several (the embedded default).

    Start order: bus, then units; stop order is the reverse, then `closers` (databases).
    """
    health = HealthChecks()
    health.add("bus", bus.health)
    for unit in units:
        for name, check in unit.readiness.items():
            health.add(f"{unit.name}.{name}", check)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as jwks_client:
            install_authenticator(app, build_authenticator(auth, jwks_client))
            await bus.start()
            started: list[ServiceUnit] = []
            try:
                for unit in units:
                    await unit.on_start()
                    started.append(unit)
                    log.info("service %s started", unit.name)
                yield
            finally:
                for unit in reversed(started):
                    try:
                        await unit.on_stop()
                    except Exception:
                        log.exception("service %s did not stop cleanly", unit.name)
                await bus.stop()
                for close in closers:
                    await close()

    return build_app(
        title=title,
        version=version,
        health=health,
        routers=[router for unit in units for router in unit.routers],
        raw_routes=[route for unit in units for route in unit.raw_routes],
        lifespan=lifespan,
        error_mappings=DEPENDENCY_ERRORS,
        # Every host configures telemetry before serving, and the services' instruments
        # record into the global meter provider: its exposition is this process's metrics.
        metrics=render_metrics,
        refusal=authentication_refusal,
    )
