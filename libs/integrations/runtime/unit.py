from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from fastapi import APIRouter

from integrations.web.health import Check
from integrations.web.raw_routes import RawRoute


async def _nothing() -> None:
    return None


@dataclass
class ServiceUnit:
    """One service, composed but not started: what a process needs to host it."""

    name: str
    routers: Sequence[APIRouter] = ()
    # Hot paths served ahead of FastAPI's stack (still documented by a router's route).
    raw_routes: Sequence[RawRoute] = ()
    readiness: dict[str, Check] = field(default_factory=dict)
    # Called after the bus has started (subscriptions registered in bootstrap are live).
    on_start: Callable[[], Awaitable[None]] = _nothing
    # Called before the bus stops: release leases, flush, close clients.
    on_stop: Callable[[], Awaitable[None]] = _nothing
