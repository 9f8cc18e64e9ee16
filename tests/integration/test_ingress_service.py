"""The ingress service against a real Kafka broker: what reaches the topic, how the view
follows the compacted webhooks topic, and what a provider is told while the broker is down."""

import asyncio
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from asgi_lifespan import LifespanManager
from opentelemetry.sdk.trace import TracerProvider
from pydantic import SecretStr

from integrations.auth import AuthConfig
from integrations.bus import Record
from integrations.bus.admin import ensure_topics
from integrations.bus.kafka import KafkaBus
from integrations.bus.kafka_readers import to_record
from integrations.bus.settings import KafkaSettings
from integrations.contracts import WebhookState, topic_spec, topics
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key
from integrations.ingress.bootstrap import SERVICE, build
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from tests.harness.kafka import KafkaServer

pytestmark = pytest.mark.integration

WITHIN = 30.0
PUBLISH_TIMEOUT_S = 2.0
RING = KeyRing([generate_root_key()])
CIPHER = Cipher.from_key_ring(RING.export(), Purpose.WEBHOOK_SECRETS)
SECRET = secrets.token_hex(32)
CALLER_TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
BODY = json.dumps({"action": "opened", "number": 1, "pull_request": {"title": "t"}}).encode()


def webhook_state(webhook_id: str) -> WebhookState:
    return WebhookState(
        webhook_id=webhook_id,
        user_id="user-1",
        provider="github",
        credentials_id="cred-1",
        webhook_type="repo",
        resource="octo/repo",
        events=["pull_request"],
        secret_ciphertext=CIPHER.encrypt_text(SECRET, associated_data=webhook_id.encode()),
        provider_webhook_id="1",
        manual=False,
        ingress_url=f"http://test/api/integrations/github/webhooks/{webhook_id}/ingress",
        version=1,
        updated_at=datetime.now(UTC),
    )


def signed_headers(delivery_id: str) -> dict[str, str]:
    signature = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": delivery_id,
        "X-Hub-Signature-256": f"sha256={signature}",
    }


def kafka_settings(bootstrap: str, name: str) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=bootstrap,
        client_id=f"{name}-{uuid.uuid4().hex[:6]}",
        publish_timeout_s=PUBLISH_TIMEOUT_S,
        connect_timeout_s=WITHIN,
    )


@dataclass
class Ingress:
    bootstrap: str
    client: httpx.AsyncClient
    credentials_calls: list[str] = field(default_factory=list)

    async def post(self, webhook_id: str, delivery_id: str | None = None) -> httpx.Response:
        return await self.client.post(
            f"/api/integrations/github/webhooks/{webhook_id}/ingress",
            content=BODY,
            headers=signed_headers(delivery_id or str(uuid.uuid4())),
        )

    async def until(
        self, webhook_id: str, status: int, within: float = WITHIN
    ) -> tuple[httpx.Response, float]:
        """POST until the answer has `status`; the answer and the seconds it took."""
        started = time.monotonic()
        async with asyncio.timeout(within):
            while (response := await self.post(webhook_id)).status_code != status:  # noqa: ASYNC110
                await asyncio.sleep(0.02)
        return response, time.monotonic() - started


@asynccontextmanager
async def credentials_producer(bootstrap: str) -> AsyncIterator[KafkaBus]:
    """What the credentials service does to the compacted topic."""
    bus = KafkaBus(kafka_settings(bootstrap, "credentials"))
    await bus.start()
    try:
        yield bus
    finally:
        await bus.stop()


@asynccontextmanager
async def running_ingress(bootstrap: str) -> AsyncIterator[Ingress]:
    await ensure_topics(bootstrap, [topic_spec(topics.WEBHOOKS), topic_spec(topics.WEBHOOK_EVENTS)])
    # A real tracer even when no test set the global provider: the route's span then.
    tracer_provider = TracerProvider()
    calls: list[str] = []

    def credentials(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(404)

    bus = KafkaBus(kafka_settings(bootstrap, "ingress"))
    settings = SERVICE.load_settings(
        kafka_bootstrap_servers=bootstrap,
        webhook_secret_keys=RING.derive(Purpose.WEBHOOK_SECRETS).export(),
        credentials_internal_url="http://credentials",
    )
    unit = build(
        settings,
        Dependencies(bus, settings.database_url),
        credentials_transport=httpx.MockTransport(credentials),
        tracer_provider=tracer_provider,
    )
    app = host_units(
        [unit],
        title="ingress",
        version="0",
        bus=bus,
        auth=AuthConfig(jwt_secret=SecretStr(secrets.token_urlsafe(32))),
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        LifespanManager(app, startup_timeout=WITHIN, shutdown_timeout=WITHIN),
        httpx.AsyncClient(transport=transport, base_url="http://test") as client,
    ):
        async with asyncio.timeout(WITHIN):
            while (await client.get("/readyz")).status_code != 200:  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        yield Ingress(bootstrap, client, calls)
    tracer_provider.shutdown()


async def read_back(
    bootstrap: str, key: str, until: Callable[[list[Record]], bool] = bool
) -> list[Record]:
    """Records of the webhook-events topic under `key`, read raw, once `until` holds for them."""
    consumer = AIOKafkaConsumer(
        topics.WEBHOOK_EVENTS,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    found: list[Record] = []
    try:
        async with asyncio.timeout(WITHIN):
            while not until(found):
                batches = await consumer.getmany(timeout_ms=200)
                found += [
                    record
                    for batch in batches.values()
                    for record in map(to_record, batch)
                    if record.key == key
                ]
    finally:
        await consumer.stop()
    return found


def is_traced(record: Record) -> bool:
    return b"traced-delivery" in (record.value or b"")


def new_webhook_id() -> str:
    return f"wh-{uuid.uuid4().hex[:12]}"


async def test_the_published_record_has_the_key_headers_trace_and_body(
    kafka_bootstrap: str,
) -> None:
    webhook_id = new_webhook_id()
    async with credentials_producer(kafka_bootstrap) as credentials:
        await credentials.publish(topics.WEBHOOKS, webhook_state(webhook_id), source="/test")
    async with running_ingress(kafka_bootstrap) as ingress:
        await ingress.until(webhook_id, 200)
        response = await ingress.client.post(
            f"/api/integrations/github/webhooks/{webhook_id}/ingress",
            content=BODY,
            headers={**signed_headers("traced-delivery"), "traceparent": CALLER_TRACEPARENT},
        )
        assert response.status_code == 200

    records = await read_back(
        kafka_bootstrap, webhook_id, until=lambda found: any(is_traced(r) for r in found)
    )
    [record] = [r for r in records if is_traced(r)]
    assert record.header("ce_specversion") == b"1.0"
    assert record.header("ce_type") == b"integrations.webhook-event.received.v1"
    assert record.header("ce_source") == b"/integrations/ingress"
    assert record.header("content-type") == b"application/json"
    assert record.header("ce_id")
    assert record.header("ce_time")
    # The server span (FastAPI's when the global provider is set, else the route's)
    # continued the caller's trace, and the bus carried it into the record.
    traceparent = (record.header("traceparent") or b"").decode()
    assert traceparent.split("-")[1] == CALLER_TRACEPARENT.split("-")[1]
    assert traceparent.split("-")[2] != CALLER_TRACEPARENT.split("-")[2]
    event = json.loads(record.value or b"")
    assert event["event_id"] == response.json()["event_id"]
    assert event["webhook_id"] == webhook_id
    assert event["user_id"] == "user-1"
    assert event["event_type"] == "pull_request.opened"
    assert event["payload"] == json.loads(BODY)
    assert "x-hub-signature-256" not in event["headers"]
    assert SECRET.encode() not in (record.value or b"")


async def test_a_new_webhook_is_accepted_within_a_second_and_a_tombstoned_one_is_404(
    kafka_bootstrap: str,
) -> None:
    webhook_id = new_webhook_id()
    async with (
        running_ingress(kafka_bootstrap) as ingress,
        credentials_producer(kafka_bootstrap) as credentials,
    ):
        assert (await ingress.post(webhook_id)).status_code == 404

        await credentials.publish(topics.WEBHOOKS, webhook_state(webhook_id), source="/test")
        _, took = await ingress.until(webhook_id, 200, within=5.0)
        assert took < 1.0

        await credentials.publish(topics.WEBHOOKS, None, key=webhook_id, source="/test")
        await ingress.until(webhook_id, 404, within=5.0)

    # Misses asked credentials once each (then the answer was cached), never per request.
    assert len(ingress.credentials_calls) <= 2


async def test_while_the_broker_is_down_it_answers_503_and_never_200_for_an_unpublished_event(
    kafka_fault_server: KafkaServer,
) -> None:
    bootstrap = kafka_fault_server.bootstrap_servers
    webhook_id = new_webhook_id()
    async with credentials_producer(bootstrap) as credentials:
        await credentials.publish(topics.WEBHOOKS, webhook_state(webhook_id), source="/test")
    acknowledged: list[str] = []
    async with running_ingress(bootstrap) as ingress:
        response, _ = await ingress.until(webhook_id, 200)
        acknowledged.append(response.json()["event_id"])

        await kafka_fault_server.astop()
        try:
            started = time.monotonic()
            down = await asyncio.gather(*(ingress.post(webhook_id) for _ in range(3)))
            took = time.monotonic() - started
        finally:
            await kafka_fault_server.astart()

        for response in down:
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "broker_unavailable"
            assert response.headers["retry-after"] == "5"
        assert took < PUBLISH_TIMEOUT_S + 1.0

        # Back up: deliveries are acknowledged again (the provider's retries succeed).
        for _ in range(3):
            response, _ = await ingress.until(webhook_id, 200, within=60.0)
            acknowledged.append(response.json()["event_id"])

    def event_ids(records: list[Record]) -> set[str]:
        return {json.loads(record.value or b"")["event_id"] for record in records}

    # Every 200 is on the topic (a 503's event may be there too: at least once, deduped later).
    await read_back(
        bootstrap, webhook_id, until=lambda found: set(acknowledged) <= event_ids(found)
    )
