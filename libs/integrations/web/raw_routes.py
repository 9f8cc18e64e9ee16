"""Hot routes answered by plain ASGI apps, ahead of FastAPI's stack.

A FastAPI request passes through its telemetry wrapper, Starlette's middlewares, the
router and a `Request`/`Response` pair before and after the endpoint: on the webhook
ingress path, which does little work of its own, that was most of a request's CPU time. A
`RawRoute` is matched first, by method and path, and its app gets the raw ASGI call with
`scope["path_params"]` set; it owns its status codes, error bodies, span and metrics.

FastAPI still documents the route: `AsgiApiRoute` takes a documentation endpoint (whose
signature FastAPI reads) carrying the same app as `.asgi`, so the OpenAPI document and a
request that reaches FastAPI anyway get the same answer.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.routing import compile_path
from starlette.types import ASGIApp, Receive, Scope, Send


@dataclass(frozen=True)
class RawRoute:
    method: str
    path: str  # a template, as Starlette's: `{name}` matches one path segment
    app: ASGIApp
    _pattern: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        pattern, _, _ = compile_path(self.path)
        object.__setattr__(self, "_pattern", pattern)

    def match(self, scope: Scope) -> dict[str, str] | None:
        if scope["method"] != self.method:
            return None
        found = self._pattern.match(scope["path"])
        return None if found is None else found.groupdict()


class RawRoutingApp(FastAPI):
    """A FastAPI app that serves its `raw_routes` before anything else."""

    raw_routes: Sequence[RawRoute] = ()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for route in self.raw_routes:
                params = route.match(scope)
                if params is not None:
                    await route.app({**scope, "path_params": params}, receive, send)
                    return
        await super().__call__(scope, receive, send)


def documented(app: ASGIApp) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Marks a documentation endpoint as answered by `app` (see `AsgiApiRoute`)."""

    def mark(endpoint: Callable[..., Any]) -> Callable[..., Any]:
        endpoint.asgi = app  # type: ignore[attr-defined]
        return endpoint

    return mark


class AsgiApiRoute(APIRoute):
    """Documented from its endpoint's signature, answered by the endpoint's `.asgi` app."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, endpoint, **kwargs)
        app = getattr(endpoint, "asgi", None)
        if app is None:
            raise TypeError(f"{path}: the endpoint needs an ASGI app (`@documented(app)`)")
        self.asgi: ASGIApp = app

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Whether reached directly or through an included router's context, the app answers.
        await self.asgi(scope, receive, send)
