"""Credentials reads and the refresh storm, in one process, on loopback.

    .venv/bin/python -m benchmarks.credentials [--store sqlite|mongo] [--duration 5] [--json FILE]

Two replicas of the credentials service (two independent compositions of `bootstrap.build`
sharing one database, each with its own leases and refresher) behind in-process ASGI
clients; the provider's token endpoint is a uvicorn server on 127.0.0.1.

- `cached reads`: closed loop, `--concurrency` readers, credentials that do not expire
  (the common case: a store read, a decryption, no refresh), measured through the internal
  `GET /internal/users/{u}/credentials/{id}` route and through the read path below it
  (`repository.get` + `Refresher.ensure_fresh`);
- `refresh storm`: N concurrent reads (half on each replica) of one credential whose token
  expires within 5 minutes: how many calls reach the token endpoint, and how long the
  storm takes.

`--store mongo` runs against `MONGODB_URI`, or starts the test harness's MongoDB-wire server
(FerretDB, `tests/harness/mongo.py`).
"""

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import statistics
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from asgi_lifespan import LifespanManager
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from integrations.bus import InMemoryBus
from integrations.credentials.adapters.credentials_repository import (
    COLLECTION,
    DocumentCredentialsRepository,
)
from integrations.credentials.adapters.lease_store import COLLECTION as LEASES
from integrations.credentials.adapters.lease_store import LeaseStore
from integrations.credentials.adapters.provider_refresh import ProviderTokenRefresher
from integrations.credentials.bootstrap import SERVICE, build
from integrations.credentials.domain.credentials import OAuth2Credentials
from integrations.credentials.refresher import Refresher
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key
from integrations.providers import OAuthConfig, Provider, build_registry
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from integrations.storage import Database, open_database

USER = "bench-user"
SERVICE_TOKEN = "bench-service-token-0123456789abcdef012345"
JWT_SECRET = "bench-jwt-secret-0123456789abcdef0123456789"
HEADERS = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
ENV = {"EXAMPLE_CLIENT_ID": "bench-client", "EXAMPLE_CLIENT_SECRET": "bench-secret"}
CREDENTIALS = 100
STORMS = (200, 1000)
TOKEN_LATENCY_S = 0.05  # a provider's token endpoint is tens of milliseconds away


# --------------------------------------------------------------------------- token endpoint


@dataclass
class TokenEndpoint:
    calls: int = 0

    async def token(self, request: Request) -> JSONResponse:
        self.calls += 1
        await asyncio.sleep(TOKEN_LATENCY_S)
        return JSONResponse(
            {
                "access_token": f"access-{uuid.uuid4().hex}",
                "expires_in": 3600,
                "refresh_token": f"refresh-{uuid.uuid4().hex}",
                "token_type": "bearer",
            }
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def token_server(endpoint: TokenEndpoint) -> AsyncIterator[str]:
    app = Starlette(routes=[Route("/token", endpoint.token, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}/token"
    finally:
        server.should_exit = True
        await task


# --------------------------------------------------------------------------- the service


@dataclass
class Deployment:
    url: str
    name: str
    ring: str
    token_url: str
    replicas: list[httpx.AsyncClient] = field(default_factory=list)

    def registry(self) -> Any:
        oauth = OAuthConfig(
            authorize_url="http://127.0.0.1/authorize",
            token_url=self.token_url,
            client_id_env="EXAMPLE_CLIENT_ID",
            client_secret_env="EXAMPLE_CLIENT_SECRET",
        )
        return build_registry([Provider(name="example", title="Example", oauth=oauth)])

    def repository(self, database: Database) -> DocumentCredentialsRepository:
        cipher = Cipher.from_key_ring(self.ring, Purpose.CREDENTIALS)
        return DocumentCredentialsRepository(database.collection(COLLECTION), cipher)


@contextlib.asynccontextmanager
async def deployment(url: str, token_url: str, replicas: int) -> AsyncIterator[Deployment]:
    deployed = Deployment(url, f"bench_{uuid.uuid4().hex[:8]}", _ring(), token_url)
    async with AsyncExitStack() as stack:
        for n in range(replicas):
            bus = InMemoryBus()
            settings = SERVICE.load_settings(
                database_url=url,
                database_name=deployed.name,
                encryption_keys=deployed.ring,
                service_token=SERVICE_TOKEN,
                jwt_secret=JWT_SECRET,
                background_refresh_interval_s=0,
                log_level="WARNING",
            )
            deps = Dependencies(bus, url)
            unit = build(settings, deps, env=ENV, registry=deployed.registry())
            app = host_units(
                [unit],
                title=f"credentials {n}",
                version="0",
                bus=bus,
                auth=settings.auth_config(),
                closers=[deps.close],
            )
            await stack.enter_async_context(LifespanManager(app, startup_timeout=60))
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://credentials"
            )
            deployed.replicas.append(await stack.enter_async_context(client))
        yield deployed


def _ring() -> str:
    return KeyRing([generate_root_key("bench")]).export()


def credential(credentials_id: str, *, expires_in: float | None) -> OAuth2Credentials:
    return OAuth2Credentials.model_validate(
        {
            "id": credentials_id,
            "provider": "example",
            "access_token": f"access-{credentials_id}",
            "access_token_expires_at": None
            if expires_in is None
            else int(time.time() + expires_in),
            "refresh_token": f"refresh-{credentials_id}",
            "scopes": ["read"],
        }
    )


# --------------------------------------------------------------------------- measurements


@dataclass
class Row:
    name: str
    requests: int
    seconds: float
    latencies_s: list[float]
    note: str = ""
    token_calls: int | None = None  # refresh storms only

    def summary(self) -> dict[str, Any]:
        """The row as JSON: rate, tail and (storms) token-endpoint calls."""
        return {
            "name": self.name,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "per_s": round(self.rate, 1),
            "p50_ms": round(self.percentile(0.5), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "token_calls": self.token_calls,
        }

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


async def closed_loop(
    name: str, one: Callable[[], Awaitable[None]], *, concurrency: int, duration_s: float
) -> Row:
    latencies: list[float] = []
    deadline = time.perf_counter() + duration_s

    async def reader() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await one()
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(reader() for _ in range(concurrency)))
    return Row(name, len(latencies), time.perf_counter() - started, latencies)


async def cached_reads(deployed: Deployment, *, concurrency: int, duration_s: float) -> list[Row]:
    database = open_database(deployed.url, name=deployed.name)
    try:
        repository = deployed.repository(database)
        ids = [f"cached-{i}" for i in range(CREDENTIALS)]
        for credentials_id in ids:
            await repository.add(USER, credential(credentials_id, expires_in=None))
        replica = deployed.replicas[0]
        pick = random.Random(1).choice  # a workload, not a secret

        async def route_read() -> None:
            response = await replica.get(
                f"/internal/users/{USER}/credentials/{pick(ids)}", headers=HEADERS
            )
            assert response.status_code == 200, response.text

        leases = LeaseStore(database.collection(LEASES))
        tokens = ProviderTokenRefresher(
            deployed.registry(), ENV, httpx.AsyncClient(), redirect_uri="http://127.0.0.1/cb"
        )
        refresher = Refresher(repository, leases, tokens, InMemoryBus())

        async def path_read() -> None:
            stored = await repository.get(USER, pick(ids))
            assert stored is not None
            await refresher.ensure_fresh(stored)

        await closed_loop("warm-up", route_read, concurrency=concurrency, duration_s=1)
        return [
            await closed_loop(
                "cached reads, internal GET route",
                route_read,
                concurrency=concurrency,
                duration_s=duration_s,
            ),
            await closed_loop(
                "cached reads, read path (get + ensure_fresh)",
                path_read,
                concurrency=concurrency,
                duration_s=duration_s,
            ),
        ]
    finally:
        await database.close()


async def refresh_storm(deployed: Deployment, endpoint: TokenEndpoint, reads: int) -> Row:
    credentials_id = f"storm-{reads}-{uuid.uuid4().hex[:6]}"
    database = open_database(deployed.url, name=deployed.name)
    try:
        await deployed.repository(database).add(USER, credential(credentials_id, expires_in=60))
    finally:
        await database.close()
    before = endpoint.calls
    latencies: list[float] = []

    async def read(n: int) -> str:
        replica = deployed.replicas[n % len(deployed.replicas)]
        started = time.perf_counter()
        response = await replica.get(
            f"/internal/users/{USER}/credentials/{credentials_id}", headers=HEADERS
        )
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    started = time.perf_counter()
    tokens = await asyncio.gather(*(read(n) for n in range(reads)))
    seconds = time.perf_counter() - started
    calls = endpoint.calls - before
    fresh = len(set(tokens))
    note = f"{calls} token call(s) for {reads} reads; {fresh} distinct token(s) served"
    name = f"refresh storm, {reads} concurrent reads"
    return Row(name, reads, seconds, latencies, note, token_calls=calls)


# --------------------------------------------------------------------------- output


def table(rows: list[Row]) -> str:
    header = (
        f"{'measurement':<48} {'reads':>7} {'reads/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}"
    )
    lines = [header, "-" * len(header)]
    for row in rows:
        lines.append(
            f"{row.name:<48} {row.requests:>7} {row.rate:>9.0f} {row.percentile(0.5):>8.2f}"
            f" {row.percentile(0.95):>8.2f} {row.percentile(0.99):>8.2f}"
        )
        if row.note:
            lines.append(f"    {row.note}")
    return "\n".join(lines)


@contextlib.contextmanager
def store(kind: str, workdir: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{workdir / 'credentials.db'}"
        return
    external = os.environ.get("MONGODB_URI", "").strip()
    if external:
        yield external
        return
    from tests.harness.mongo import MongoWireServer

    server = MongoWireServer(workdir / "mongo")
    server.start()
    try:
        yield server.uri
    finally:
        server.stop()


async def run(kind: str, workdir: Path, *, concurrency: int, duration_s: float) -> list[Row]:
    endpoint = TokenEndpoint()
    with store(kind, workdir) as url:
        async with token_server(endpoint) as token_url, deployment(url, token_url, 2) as deployed:
            rows = await cached_reads(deployed, concurrency=concurrency, duration_s=duration_s)
            for reads in STORMS:
                rows.append(await refresh_storm(deployed, endpoint, reads))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--store", choices=["sqlite", "mongo"], default="sqlite")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="credentials-bench-") as workdir:
        rows = asyncio.run(
            run(args.store, Path(workdir), concurrency=args.concurrency, duration_s=args.duration)
        )
    print(f"store: {args.store}, concurrency {args.concurrency}, 2 replicas, loopback")
    print(table(rows))
    mean = statistics.fmean(r.rate for r in rows[:2])
    print(f"mean cached read rate: {mean:.0f}/s")
    if args.json:
        route, path, *storms = rows
        results = {
            "store": args.store,
            "concurrency": args.concurrency,
            "replicas": 2,
            "route_reads": route.summary(),
            "path_reads": path.summary(),
            "storms": [storm.summary() for storm in storms],
        }
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
