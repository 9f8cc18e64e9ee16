"""Refresh and leases across replicas (SPEC CM-1..CM-6) on the real broker and the
MongoDB-wire server: two independent compositions of the credentials service, in this
process, sharing one database; the provider's token endpoint is faked at the HTTP seam."""

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
import pytest
from asgi_lifespan import LifespanManager
from pymongo import MongoClient

from integrations.auth import issue_dev_token
from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from integrations.contracts import CredentialsRefreshed, Message, topics
from integrations.credentials.adapters.credentials_repository import (
    COLLECTION as CREDENTIALS,
)
from integrations.credentials.adapters.credentials_repository import (
    DocumentCredentialsRepository,
)
from integrations.credentials.adapters.lease_store import COLLECTION as LEASES
from integrations.credentials.bootstrap import SERVICE, build
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key
from integrations.providers import OAuthConfig, Provider, build_registry
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from integrations.storage import open_database
from tests.unit.dispatcher.kafka_kit import Tail, provision_topics, start_group_at_end

pytestmark = pytest.mark.integration

RING: Final = KeyRing([generate_root_key("k1")]).export()
JWT_SECRET: Final = "integration-jwt-secret-0123456789abcdef0123"
SERVICE_TOKEN: Final = "integration-service-token-0123456789abcdef"
SERVICE_HEADERS: Final = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
TOKEN_URL: Final = "http://tokens.test/oauth/token"
ENV: Final = {"EXAMPLE_CLIENT_ID": "client-1", "EXAMPLE_CLIENT_SECRET": "client-secret"}
REGISTRY: Final = build_registry(
    [
        Provider(
            name="example",
            title="Example",
            oauth=OAuthConfig(
                authorize_url="http://tokens.test/authorize",
                token_url=TOKEN_URL,
                client_id_env="EXAMPLE_CLIENT_ID",
                client_secret_env="EXAMPLE_CLIENT_SECRET",
            ),
        )
    ]
)
USER: Final = "alice"


@dataclass
class TokenEndpoint:
    """A provider that rotates refresh tokens and, like the strict ones, refuses any but the
    latest: a lost rotated token would show up as `invalid_grant`."""

    expires_in: int = 3600
    latency_s: float = 0.05
    issued: str = "refresh-0"
    calls: list[str] = field(default_factory=list)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        form = dict(httpx.QueryParams(request.content.decode()))
        self.calls.append(form["refresh_token"])
        await asyncio.sleep(self.latency_s)
        if form["refresh_token"] != self.issued:
            return httpx.Response(400, json={"error": "invalid_grant"})
        n = len(self.calls)
        self.issued = f"refresh-{n}"
        return httpx.Response(
            200,
            json={
                "access_token": f"access-{n}",
                "expires_in": self.expires_in,
                "refresh_token": self.issued,
                "token_type": "bearer",
            },
        )


@dataclass
class Cluster:
    run: str
    mongodb_uri: str
    database_name: str
    endpoint: TokenEndpoint
    replicas: list[httpx.AsyncClient]

    @property
    def credential_url(self) -> str:
        return f"/internal/users/{USER}/credentials/cred-{self.run}"

    @property
    def leases_url(self) -> str:
        return f"{self.credential_url}/leases"

    def is_ours(self, message: Message) -> bool:
        return getattr(message, "credentials_id", None) == f"cred-{self.run}"

    async def store(self, *, expires_in: float) -> None:
        response = await self.replicas[0].post(
            "/api/integrations/example/credentials",
            json={
                "type": "oauth2",
                "id": f"cred-{self.run}",
                "provider": "example",
                "access_token": "access-0",
                "access_token_expires_at": int(time.time() + expires_in),
                "refresh_token": "refresh-0",
                "scopes": ["read"],
            },
            headers={"Authorization": f"Bearer {issue_dev_token(JWT_SECRET, USER)}"},
        )
        assert response.status_code == 201, response.text

    async def read(self, replica: int) -> dict[str, Any]:
        response = await self.replicas[replica].get(self.credential_url, headers=SERVICE_HEADERS)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def acquire(self, replica: int, **body: float) -> httpx.Response:
        return await self.replicas[replica].post(
            self.leases_url, json=body, headers=SERVICE_HEADERS
        )


@pytest.fixture
async def cluster(kafka_bootstrap: str, mongodb_uri: str) -> AsyncIterator[Cluster]:
    run = uuid.uuid4().hex[:10]
    database_name = f"credentials_{run}"
    group = f"credentials-commands-{run}"
    await provision_topics(kafka_bootstrap)
    await start_group_at_end(kafka_bootstrap, group, topics.CREDENTIALS_COMMANDS)
    endpoint = TokenEndpoint()
    async with AsyncExitStack() as stack:
        replicas = []
        for n in range(2):
            bus = KafkaBus(
                KafkaSettings(bootstrap_servers=kafka_bootstrap, client_id=f"cred-{run}-{n}")
            )
            settings = SERVICE.load_settings(
                database_url=mongodb_uri,
                database_name=database_name,
                encryption_keys=RING,
                jwt_secret=JWT_SECRET,
                service_token=SERVICE_TOKEN,
                commands_consumer_group=group,
                background_refresh_interval_s=0,
            )
            deps = Dependencies(bus, mongodb_uri)
            unit = build(
                settings,
                deps,
                env=ENV,
                registry=REGISTRY,
                provider_transport=httpx.MockTransport(endpoint),
            )
            app = host_units(
                [unit],
                title=f"credentials {n}",
                version="0",
                bus=bus,
                auth=settings.auth_config(),
                closers=[deps.close],
            )
            await stack.enter_async_context(LifespanManager(app, startup_timeout=60))
            replicas.append(
                await stack.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url="http://test"
                    )
                )
            )
        yield Cluster(run, mongodb_uri, database_name, endpoint, replicas)
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    with client:
        client.drop_database(database_name)


async def test_two_hundred_reads_on_two_replicas_make_one_refresh_and_keep_the_rotation(
    cluster: Cluster, kafka_bootstrap: str
) -> None:
    """SPEC CM-1, CM-3: single-flight across replicas; the rotated token is never lost (the
    endpoint refuses anything but the latest refresh token)."""
    await cluster.store(expires_in=60)

    async with Tail(kafka_bootstrap, topics.CREDENTIALS_EVENTS, cluster.is_ours) as events:
        for round_ in (1, 2):
            if round_ == 2:
                await _expire_soon(cluster)  # the fresh token's turn to be refreshed
            reads = await asyncio.gather(*(cluster.read(i % 2) for i in range(200)))

            assert len(cluster.endpoint.calls) == round_
            assert {r["access_token"] for r in reads} == {f"access-{round_}"}
            assert {r["refresh_token"] for r in reads} == {f"refresh-{round_}"}
        await events.wait_until(lambda: len(events.messages(CredentialsRefreshed)) >= 2, within=30)

    assert cluster.endpoint.calls == ["refresh-0", "refresh-1"]
    refreshed = events.messages(CredentialsRefreshed)
    assert len(refreshed) == 2
    assert b"access-" not in b"".join(record.value or b"" for record, _ in events.records)


async def test_a_waiting_acquirer_lets_a_refresh_go_first(cluster: Cluster) -> None:
    """SPEC CM-2: acquirers queue behind refreshes; CM-3: the refresh waits until the
    credential is not in use."""
    await cluster.store(expires_in=3600)
    first = await cluster.acquire(0, ttl_s=30)
    assert first.status_code == 200
    second = asyncio.create_task(cluster.acquire(1, wait_s=30))
    await asyncio.sleep(0.5)  # the acquirer queues first

    await _expire_soon(cluster)  # as if time passed: the token now expires within 5 min
    reader = asyncio.create_task(cluster.read(0))
    await _until_a_priority_claim_waits(cluster)
    assert cluster.endpoint.calls == []  # in use: the refresh waits
    assert not second.done()

    released = await cluster.replicas[1].delete(
        f"{cluster.leases_url}/{first.json()['lease_id']}", headers=SERVICE_HEADERS
    )
    assert released.json() == {"released": True}

    # The reader finishes while the second acquirer holds the lease (it never releases):
    # so the refresh went before it.
    fresh = await asyncio.wait_for(reader, 10)
    granted = await asyncio.wait_for(second, 10)
    assert fresh["access_token"] == "access-1"
    assert granted.status_code == 200
    assert granted.json()["credentials"]["access_token"] == "access-1"
    assert cluster.endpoint.calls == ["refresh-0"]


async def test_a_killed_lease_holders_lease_expires(cluster: Cluster, mongodb_uri: str) -> None:
    """SPEC CM-6: a replica killed in the middle of an update (its lease heartbeated until
    then) blocks nobody for longer than the lease's TTL."""
    await cluster.store(expires_in=3600)
    with _holder(mongodb_uri, cluster.database_name, f"cred-{cluster.run}", ttl_s=2) as holder:
        await asyncio.sleep(3)  # past the first TTL: the heartbeats keep it
        assert (await cluster.acquire(0, wait_s=0)).status_code == 409
        holder.kill()
        holder.wait()
        killed_at = time.monotonic()

        granted = await cluster.acquire(1, wait_s=15)

    assert granted.status_code == 200
    assert time.monotonic() - killed_at < 2 + 1.5


_HOLDER_SCRIPT: Final = """
import asyncio, sys
from integrations.credentials.adapters.lease_store import COLLECTION, LeaseStore
from integrations.credentials.domain.leases import Slot, lease_key
from integrations.storage import open_database

async def main() -> None:
    uri, name, user, credentials_id, ttl = sys.argv[1:6]
    leases = LeaseStore(open_database(uri, name=name).collection(COLLECTION))
    key = lease_key(user, credentials_id, Slot.USE)
    async with leases.holding(key, ttl_s=float(ttl), purpose="update", priority=True):
        print("held", flush=True)
        await asyncio.sleep(3600)

asyncio.run(main())
"""


@contextmanager
def _holder(
    uri: str, database: str, credentials_id: str, *, ttl_s: float
) -> Iterator["subprocess.Popen[str]"]:
    """Another process holding the credential's use lease, as a replica mid-update does."""
    process = subprocess.Popen(
        [sys.executable, "-c", _HOLDER_SCRIPT, uri, database, USER, credentials_id, str(ttl_s)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.kill()
        process.wait()
        if process.stdout is not None:
            process.stdout.close()


async def _until_a_priority_claim_waits(cluster: Cluster) -> None:
    database = open_database(cluster.mongodb_uri, name=cluster.database_name)
    try:
        async with asyncio.timeout(10):
            while not any(  # noqa: ASYNC110 - polls the store
                doc.get("waiters") for doc in await database.collection(LEASES).find({})
            ):
                await asyncio.sleep(0.02)
    finally:
        await database.close()


async def _expire_soon(cluster: Cluster) -> None:
    """Move the stored token's expiry to 100 s from now, as if that much time had passed."""
    database = open_database(cluster.mongodb_uri, name=cluster.database_name)
    try:
        repository = DocumentCredentialsRepository(
            database.collection(CREDENTIALS), Cipher.from_key_ring(RING, Purpose.CREDENTIALS)
        )
        current = await repository.get(USER, f"cred-{cluster.run}")
        assert current is not None
        soon = current.credentials.model_copy(
            update={"access_token_expires_at": int(time.time() + 100)}
        )
        assert await repository.replace(current, soon) is not None
    finally:
        await database.close()
