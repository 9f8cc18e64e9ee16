"""Webhooks end to end on real servers: the credentials and ingress services (each its own
app, bus and port) on a real Kafka broker and MongoDB-wire server, with a local GitHub.

Trigger commands in → `WebhookState` on the compacted topic (read back raw) and repository
hooks at GitHub; a ping goes GitHub → ingress → Kafka → the waiting credentials service;
deleting the credentials releases their webhooks; a lost state is republished on start."""

import asyncio
import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from integrations.auth import issue_dev_token
from integrations.bus import Record
from integrations.bus.admin import ensure_topics
from integrations.bus.kafka import KafkaBus
from integrations.bus.kafka_readers import to_record
from integrations.bus.settings import KafkaSettings
from integrations.contracts import (
    ActivateNodeTrigger,
    DeactivateNodeTrigger,
    Message,
    TriggerActivated,
    TriggerActivationFailed,
    TriggerDeactivated,
    WebhookPruned,
    WebhookState,
    decode,
    decode_as,
    topic_spec,
    topics,
)
from integrations.credentials.bootstrap import SERVICE as CREDENTIALS
from integrations.credentials.bootstrap import build as build_credentials
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key
from integrations.ingress.bootstrap import SERVICE as INGRESS
from integrations.ingress.bootstrap import build as build_ingress
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from tests.unit.credentials_webhooks.github_server import GitHubState, github_app
from tests.unit.credentials_webhooks.serving import loopback_socket, serve_on_loopback

pytestmark = pytest.mark.integration

WITHIN = 30.0
RING = KeyRing([generate_root_key()])
INGRESS_RING = RING.derive(Purpose.WEBHOOK_SECRETS).export()
JWT_SECRET = secrets.token_urlsafe(32)
SERVICE_TOKEN = secrets.token_urlsafe(32)
TOKEN = "gho_" + secrets.token_hex(16)
TRIGGER_GROUP = f"credentials-triggers-{uuid.uuid4().hex[:8]}"
COMMANDS_GROUP = f"credentials-commands-{uuid.uuid4().hex[:8]}"
SOURCE = "/tests/platform"
TOPICS = (
    topics.TRIGGER_COMMANDS,
    topics.TRIGGER_EVENTS,
    topics.WEBHOOKS,
    topics.WEBHOOK_EVENTS,
    topics.CREDENTIALS_COMMANDS,
    topics.CREDENTIALS_EVENTS,
)


def kafka_settings(bootstrap: str, name: str) -> KafkaSettings:
    return KafkaSettings(
        bootstrap_servers=bootstrap,
        client_id=f"{name}-{uuid.uuid4().hex[:6]}",
        publish_timeout_s=10.0,
        connect_timeout_s=WITHIN,
        redelivery_delay_s=0.2,
    )


@dataclass
class Platform:
    bootstrap: str
    mongodb_uri: str
    database_name: str
    github: GitHubState
    github_url: str
    producer: KafkaBus
    credentials: httpx.AsyncClient = field(init=False)
    ingress_url: str = ""
    user: str = field(default_factory=lambda: f"user-{uuid.uuid4().hex[:8]}")
    credentials_id: str = field(default_factory=lambda: f"gh-{uuid.uuid4().hex[:8]}")
    answers: list[httpx.Response] = field(default_factory=list)

    def user_headers(self, user: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_dev_token(JWT_SECRET, user or self.user)}"}

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = await self.credentials.request(method, path, **kwargs)
        self.answers.append(response)
        return response

    async def send(self, command: Message, answered: Callable[[Message], bool]) -> Message:
        """Publish a trigger command; the first trigger event `answered` accepts."""

        def matches(record: Record) -> bool:
            return record.value is not None and answered(decode(record.headers, record.value))

        async with self.producer.expect(topics.TRIGGER_EVENTS, matches) as outcome:
            await self.producer.publish(topics.TRIGGER_COMMANDS, command, source=SOURCE)
            record = await outcome.wait(WITHIN)
        return decode(record.headers, record.value)

    def activate(self, node_id: str, **changes: Any) -> ActivateNodeTrigger:
        fields: dict[str, Any] = {
            "user_id": self.user,
            "provider": "github",
            "webhook_type": "repo",
            "resource": "octo/repo",
            "events": ["pull_request.opened", "pull_request.closed"],
            "credentials_id": self.credentials_id,
            "graph_id": "graph-1",
            "graph_version": 1,
            "node_id": node_id,
        }
        return ActivateNodeTrigger(**(fields | changes))


def answers_command(command: Message, *kinds: type[Message]) -> Callable[[Message], bool]:
    command_id = getattr(command, "command_id")  # noqa: B009 - every command has one
    return lambda event: (
        isinstance(event, kinds) and getattr(event, "command_id", None) == command_id
    )


async def until_ready(client: httpx.AsyncClient) -> None:
    async with asyncio.timeout(WITHIN):
        while (await client.get("/readyz")).status_code != 200:  # noqa: ASYNC110
            await asyncio.sleep(0.1)


@asynccontextmanager
async def running_credentials(platform: Platform, ingress_url: str) -> AsyncIterator[str]:
    sock, url = loopback_socket()
    settings = CREDENTIALS.load_settings(
        kafka_bootstrap_servers=platform.bootstrap,
        database_url=platform.mongodb_uri,
        database_name=platform.database_name,
        encryption_keys=RING.export(),
        jwt_secret=JWT_SECRET,
        service_token=SERVICE_TOKEN,
        platform_base_url=ingress_url,
        github_api_url=platform.github_url,
        trigger_commands_consumer_group=TRIGGER_GROUP,
        commands_consumer_group=COMMANDS_GROUP,
        background_refresh_interval_s=0,
    )
    bus = KafkaBus(kafka_settings(platform.bootstrap, "credentials"))
    deps = Dependencies(bus, settings.database_url)
    app = host_units(
        [build_credentials(settings, deps)],
        title="credentials",
        version="0",
        bus=bus,
        auth=settings.auth_config(),
        closers=[deps.close],
    )
    async with serve_on_loopback(app, lifespan="on", sock=sock):
        yield url


@asynccontextmanager
async def running_ingress(
    platform: Platform, credentials_url: str, sock: Any
) -> AsyncIterator[None]:
    settings = INGRESS.load_settings(
        kafka_bootstrap_servers=platform.bootstrap,
        webhook_secret_keys=INGRESS_RING,
        credentials_internal_url=credentials_url,
        service_token=SERVICE_TOKEN,
        jwt_secret=JWT_SECRET,
    )
    bus = KafkaBus(kafka_settings(platform.bootstrap, "ingress"))
    deps = Dependencies(bus, settings.database_url)
    app = host_units(
        [build_ingress(settings, deps)],
        title="ingress",
        version="0",
        bus=bus,
        auth=settings.auth_config(),
        closers=[deps.close],
    )
    async with serve_on_loopback(app, lifespan="on", sock=sock):
        yield


@asynccontextmanager
async def running_platform(bootstrap: str, mongodb_uri: str) -> AsyncIterator[Platform]:
    await ensure_topics(bootstrap, [topic_spec(name) for name in TOPICS])
    github = GitHubState(token=TOKEN)
    async with AsyncExitStack() as stack:
        github_url = await stack.enter_async_context(serve_on_loopback(github_app(github)))
        producer = KafkaBus(kafka_settings(bootstrap, "platform"))
        await producer.start()
        stack.push_async_callback(producer.stop)
        platform = Platform(
            bootstrap, mongodb_uri, f"creds_{uuid.uuid4().hex[:12]}", github, github_url, producer
        )
        ingress_sock, platform.ingress_url = loopback_socket()
        credentials_url = await stack.enter_async_context(
            running_credentials(platform, platform.ingress_url)
        )
        await stack.enter_async_context(running_ingress(platform, credentials_url, ingress_sock))
        platform.credentials = await stack.enter_async_context(
            httpx.AsyncClient(base_url=credentials_url, timeout=WITHIN)
        )
        async with httpx.AsyncClient(base_url=platform.ingress_url) as ingress:
            await until_ready(ingress)
        await until_ready(platform.credentials)
        created = await platform.request(
            "POST",
            "/api/integrations/github/credentials",
            json={
                "id": platform.credentials_id,
                "type": "oauth2",
                "provider": "github",
                "title": "octocat",
                "access_token": TOKEN,
                "scopes": ["repo", "admin:repo_hook"],
            },
            headers=platform.user_headers(),
        )
        assert created.status_code == 201, created.text
        yield platform


@pytest.fixture
async def platform(kafka_bootstrap: str, mongodb_uri: str) -> AsyncIterator[Platform]:
    async with running_platform(kafka_bootstrap, mongodb_uri) as running:
        yield running


async def read_topic(bootstrap: str, topic: str) -> list[Record]:
    """Every record of `topic` up to its current end, raw."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_partition_fetch_bytes=16 * 1024 * 1024,
    )
    await consumer.start()
    try:
        found: list[Record] = []
        async with asyncio.timeout(WITHIN):
            while not consumer.assignment():  # noqa: ASYNC110 - no group, no rebalance event
                await asyncio.sleep(0.02)
            partitions = list(consumer.assignment())
            ends = await consumer.end_offsets(partitions)
            while any([await consumer.position(p) < ends[p] for p in partitions]):
                batches = await consumer.getmany(timeout_ms=200)
                found += [to_record(raw) for batch in batches.values() for raw in batch]
        return found
    finally:
        await consumer.stop()


async def latest_record(bootstrap: str, key: str) -> Record:
    (*_, last) = [r for r in await read_topic(bootstrap, topics.WEBHOOKS) if r.key == key]
    return last


async def test_trigger_commands_publish_webhook_state_and_register_at_github(
    platform: Platform,
) -> None:
    """SPEC WH-1, WH-2, WH-4 through the topics; the state read back raw from Kafka."""
    command = platform.activate("node-1")
    activated = await platform.send(command, answers_command(command, TriggerActivated))
    assert isinstance(activated, TriggerActivated)
    webhook_id = activated.webhook_id
    url = f"{platform.ingress_url}/api/integrations/github/webhooks/{webhook_id}/ingress"
    assert (activated.ingress_url, activated.new_webhook) == (url, True)

    record = await latest_record(platform.bootstrap, webhook_id)
    assert record.header("ce_type") == WebhookState.ce_type.encode()
    state = decode_as(WebhookState, record.value)
    (hook_id, hook) = next(iter(platform.github.hooks.items()))
    assert (state.user_id, state.provider_webhook_id, state.ingress_url) == (
        platform.user,
        hook_id,
        url,
    )
    assert state.events == ["pull_request.closed", "pull_request.opened"]
    assert [t.node_id for t in state.node_triggers] == ["node-1"]
    assert hook["events"] == ["pull_request"]
    assert (hook["config"]["url"], hook["config"]["content_type"]) == (url, "json")
    secret = Cipher.from_key_ring(INGRESS_RING, Purpose.WEBHOOK_SECRETS).decrypt_text(
        state.secret_ciphertext, associated_data=webhook_id.encode()
    )
    assert secret == hook["config"]["secret"]
    assert secret not in (record.value or b"").decode()

    again = platform.activate("node-2", events=["pull_request.closed", "pull_request.opened"])
    reused = await platform.send(again, answers_command(again, TriggerActivated))
    assert isinstance(reused, TriggerActivated)
    assert (reused.webhook_id, reused.new_webhook) == (webhook_id, False)
    assert len(platform.github.hooks) == 1

    for node_id in ("node-1", "node-2"):
        deactivate = DeactivateNodeTrigger(
            user_id=platform.user, graph_id="graph-1", graph_version=1, node_id=node_id
        )
        kinds = (WebhookPruned,) if node_id == "node-2" else (TriggerDeactivated,)
        await platform.send(deactivate, answers_command(deactivate, *kinds))
    tombstone = await latest_record(platform.bootstrap, webhook_id)
    assert tombstone.value is None
    assert platform.github.hooks == {}
    assert ("DELETE", f"/repos/octo/repo/hooks/{hook_id}") in platform.github.calls


async def test_a_ping_travels_github_ingress_kafka_and_back(platform: Platform) -> None:
    """SPEC RT-8, WH-6; ingress's read-through of the internal route on the way."""
    answer = await platform.request(
        "POST",
        "/internal/triggers/activate-node",
        json=platform.activate("node-1").model_dump(mode="json"),
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
    )
    assert answer.status_code == 200, answer.text
    webhook_id = answer.json()["webhook_id"]
    ping = f"/api/integrations/webhooks/{webhook_id}/ping"
    theirs = await platform.request("POST", ping, headers=platform.user_headers("someone-else"))
    assert theirs.status_code == 404
    pinged = await platform.request("POST", ping, headers=platform.user_headers())
    assert (pinged.status_code, pinged.json()) == (200, True)
    (delivery,) = platform.github.deliveries
    assert delivery.status_code == 200
    events = await read_topic(platform.bootstrap, topics.WEBHOOK_EVENTS)
    assert any(r.key == webhook_id and b'"event_type":"ping"' in (r.value or b"") for r in events)


async def test_deleting_the_credentials_releases_their_webhooks(platform: Platform) -> None:
    """SPEC RT-6: needs confirmation while triggers remain; forced, the webhooks go."""
    command = platform.activate("node-1")
    activated = await platform.send(command, answers_command(command, TriggerActivated))
    assert isinstance(activated, TriggerActivated)
    path = f"/api/integrations/github/credentials/{platform.credentials_id}"
    refused = await platform.request("DELETE", path, headers=platform.user_headers())
    assert refused.json()["need_confirmation"] is True
    assert len(platform.github.hooks) == 1
    deleted = await platform.request(
        "DELETE", path, params={"force": "true"}, headers=platform.user_headers()
    )
    assert deleted.json()["deleted"] is True
    assert platform.github.hooks == {}
    assert (await latest_record(platform.bootstrap, activated.webhook_id)).value is None
    events = [
        decode(r.headers, r.value)
        for r in await read_topic(platform.bootstrap, topics.TRIGGER_EVENTS)
        if r.key == platform.user and r.value is not None
    ]
    assert any(
        isinstance(e, TriggerDeactivated) and e.reason == "credentials_deleted" for e in events
    )
    assert any(isinstance(e, WebhookPruned) and e.deregistered for e in events)


async def test_another_users_commands_cannot_use_these_credentials(platform: Platform) -> None:
    """Tenant isolation: a credentials id is only ever the owner's."""
    command = platform.activate("node-x", user_id="intruder")
    failed = await platform.send(command, answers_command(command, TriggerActivationFailed))
    assert isinstance(failed, TriggerActivationFailed)
    assert failed.error_code == "credentials_not_found"
    assert platform.github.hooks == {}
    listed = await platform.request(
        "GET",
        "/internal/users/intruder/webhooks",
        headers={"Authorization": f"Bearer {SERVICE_TOKEN}"},
    )
    assert listed.json() == []


async def test_a_lost_state_is_republished_when_the_service_starts(
    kafka_bootstrap: str, mongodb_uri: str
) -> None:
    """A view rebuilt from a topic that lost a webhook's state converges after a restart."""
    async with running_platform(kafka_bootstrap, mongodb_uri) as platform:
        command = platform.activate("node-1")
        activated = await platform.send(command, answers_command(command, TriggerActivated))
        assert isinstance(activated, TriggerActivated)
        webhook_id = activated.webhook_id
        await platform.producer.publish(topics.WEBHOOKS, None, source=SOURCE, key=webhook_id)
        assert (await latest_record(kafka_bootstrap, webhook_id)).value is None
        # Another replica starting (a restarted one does the same).
        async with (
            running_credentials(platform, platform.ingress_url) as url,
            httpx.AsyncClient(base_url=url) as client,
        ):
            await until_ready(client)
        restored = await latest_record(kafka_bootstrap, webhook_id)
        assert restored.value is not None
        assert decode_as(WebhookState, restored.value).webhook_id == webhook_id


async def test_no_secret_reaches_an_answer_a_log_or_a_record(
    platform: Platform, caplog: pytest.LogCaptureFixture
) -> None:
    """DESIGN §6: neither the user's token nor a webhook secret in clear, anywhere."""
    caplog.set_level(logging.DEBUG)
    service = {"Authorization": f"Bearer {SERVICE_TOKEN}"}
    answer = await platform.request(
        "POST",
        "/internal/triggers/activate-node",
        json=platform.activate("node-1").model_dump(mode="json"),
        headers=service,
    )
    webhook_id = answer.json()["webhook_id"]
    await platform.request(
        "POST", f"/api/integrations/webhooks/{webhook_id}/ping", headers=platform.user_headers()
    )
    await platform.request("GET", f"/internal/webhooks/{webhook_id}", headers=service)
    await platform.request("GET", f"/internal/users/{platform.user}/webhooks", headers=service)
    await platform.request(
        "DELETE",
        f"/api/integrations/github/credentials/{platform.credentials_id}",
        params={"force": "true"},
        headers=platform.user_headers(),
    )
    leaks = [TOKEN, *(config["secret"] for config in platform.github.received_configs)]
    assert len(leaks) == 2
    texts = [r.text for r in platform.answers] + [str(r.headers) for r in platform.answers]
    texts += [f"{record.getMessage()} {record.__dict__}" for record in caplog.records]
    for topic in TOPICS:
        for record in await read_topic(platform.bootstrap, topic):
            texts.append(f"{record.value!r} {record.headers!r}")
    assert len(texts) > 10
    for text in texts:
        for leak in leaks:
            assert leak not in text
