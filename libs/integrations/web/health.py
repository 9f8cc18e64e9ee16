import asyncio
import logging
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import JSONResponse

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[bool]]

_CHECK_TIMEOUT_S = 2.0


class HealthChecks:
    """Named readiness checks: the broker, the database, views caught up."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    async def run(self) -> dict[str, bool]:
        names = list(self._checks)
        results = await asyncio.gather(*(self._run_one(n) for n in names))
        return dict(zip(names, results, strict=True))

    async def _run_one(self, name: str) -> bool:
        try:
            return await asyncio.wait_for(self._checks[name](), _CHECK_TIMEOUT_S)
        except Exception:
            log.warning("readiness check %s failed", name, exc_info=True)
            return False

    def router(self) -> APIRouter:
        router = APIRouter(tags=["health"])

        @router.get("/healthz", summary="Liveness: the process is serving")
        async def healthz() -> dict[str, str]:
            return {"status": "ok"}

        @router.get("/readyz", summary="Readiness: dependencies reachable, views caught up")
        async def readyz() -> JSONResponse:
            checks = await self.run()
            ready = all(checks.values())
            return JSONResponse(
                {"status": "ready" if ready else "not_ready", "checks": checks},
                status_code=200 if ready else 503,
            )

        return router
