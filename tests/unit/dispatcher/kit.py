"""Builders shared by the dispatcher's tests (unit and integration)."""

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from opentelemetry.metrics import Meter
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.trace import TracerProvider

from integrations.bus import (
    Bus,
    BusUnavailable,
    Expectation,
    Handler,
    Header,
    Predicate,
    Record,
    View,
)
from integrations.contracts import (
    CredentialsReference,
    EventFilter,
    GraphExecutionRequested,
    Message,
    NodeTrigger,
    PresetTrigger,
    WebhookEventReceived,
    WebhookState,
    build_headers,
    encode,
)
from integrations.dispatcher.adapters.delivery_log import DeliveryLogRepository
from integrations.dispatcher.adapters.instruments import DispatcherMetrics
from integrations.dispatcher.adapters.processed_events import ProcessedEventsRepository
from integrations.dispatcher.context import Dispatcher, DispatchPolicy
from integrations.dispatcher.domain.ports import WebhookDirectory
from integrations.dispatcher.domain.retry import RetryPolicy
from integrations.storage import Database

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
USER = "user-1"
WEBHOOK = "wh-1"
SOURCE = "/integrations/tests"

PR_FILTER = EventFilter(
    input_name="events",
    event_format="pull_request.{event}",
    choices={"opened": True, "closed": False},
)
CREDS = CredentialsReference(id="cred-1", provider="github", type="oauth2", title="Me")


def node(node_id: str = "node-1", *, graph_id: str = "graph-1", **fields: Any) -> NodeTrigger:
    return NodeTrigger(node_id=node_id, graph_id=graph_id, graph_version=3, **fields)


def preset(
    preset_id: str = "preset-1", *, graph_id: str = "graph-2", **fields: Any
) -> PresetTrigger:
    values: dict[str, Any] = {
        "trigger_node_id": "node-9",
        "is_active": True,
        "inputs": {"repo": "owner/repo"},
        "credentials_inputs": {"credentials": CREDS},
    }
    values.update(fields)
    return PresetTrigger(preset_id=preset_id, graph_id=graph_id, graph_version=1, **values)


def webhook(
    webhook_id: str = WEBHOOK,
    *,
    user_id: str = USER,
    nodes: Sequence[NodeTrigger] = (),
    presets: Sequence[PresetTrigger] = (),
) -> WebhookState:
    url = f"https://platform.example/api/integrations/github/webhooks/{webhook_id}/ingress"
    return WebhookState(
        webhook_id=webhook_id,
        user_id=user_id,
        provider="github",
        credentials_id="cred-1",
        webhook_type="repo",
        resource="owner/repo",
        events=["pull_request"],
        secret_ciphertext="v1:key-1:bm9uY2U:Y2lwaGVydGV4dA",
        provider_webhook_id="12345",
        manual=False,
        ingress_url=url,
        node_triggers=list(nodes),
        preset_triggers=list(presets),
        version=1,
        updated_at=NOW,
    )


def event(
    event_id: str = "delivery-1",
    *,
    webhook_id: str = WEBHOOK,
    user_id: str = USER,
    event_type: str = "pull_request.opened",
    payload: dict[str, Any] | None = None,
    received_at: datetime = NOW,
) -> WebhookEventReceived:
    return WebhookEventReceived(
        event_id=event_id,
        provider="github",
        webhook_id=webhook_id,
        user_id=user_id,
        event_type=event_type,
        payload={"action": "opened", "number": 7} if payload is None else payload,
        received_at=received_at,
        headers={"x-github-delivery": event_id},
    )


def record_of(
    message: Message | None,
    *,
    topic: str = "integrations.webhook-events.v1",
    offset: int = 0,
    key: str | None = WEBHOOK,
    value: bytes | None = None,
    headers: Sequence[Header] | None = None,
    traceparent: str | None = None,
    timestamp: datetime = NOW,
) -> Record:
    """A record as a consumer would get it (CloudEvents headers, JSON body)."""
    if headers is None:
        headers = build_headers(message, source=SOURCE, traceparent=traceparent) if message else []
    return Record(
        topic=topic,
        partition=0,
        offset=offset,
        key=key,
        value=encode(message) if value is None and message is not None else value,
        headers=tuple(headers),
        timestamp_ms=int(timestamp.timestamp() * 1000),
    )


class StaticWebhooks:
    def __init__(self, *states: WebhookState) -> None:
        self.rows = {state.webhook_id: state for state in states}

    def get(self, key: str) -> WebhookState | None:
        return self.rows.get(key)


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@dataclass
class Sleeps:
    """Records pauses instead of taking them."""

    taken: list[float] = field(default_factory=list)

    async def __call__(self, seconds: float) -> None:
        self.taken.append(seconds)


class FlakyBus:
    """A bus whose execution requests for some graphs fail, as a broker outage would look
    to the dispatcher; everything else goes to the real bus underneath."""

    def __init__(self, inner: Bus, failing: Mapping[str, Exception] | None = None) -> None:
        self.inner = inner
        self.failing: dict[str, Exception] = dict(failing or {})
        self.attempts: dict[str, int] = {}

    async def start(self) -> None:
        await self.inner.start()

    async def stop(self) -> None:
        await self.inner.stop()

    async def health(self) -> bool:
        return await self.inner.health()

    async def publish(
        self,
        topic: str,
        message: Message | None,
        *,
        source: str,
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if isinstance(message, GraphExecutionRequested):
            self.attempts[message.graph_id] = self.attempts.get(message.graph_id, 0) + 1
            failure = self.failing.get(message.graph_id)
            if failure is not None:
                raise failure
        await self.inner.publish(topic, message, source=source, key=key, headers=headers)

    async def publish_raw(
        self, topic: str, key: str | None, value: bytes | None, headers: Sequence[Header] = ()
    ) -> None:
        await self.inner.publish_raw(topic, key, value, headers)

    def subscribe(self, topic: str, handler: Handler, *, group: str) -> None:
        self.inner.subscribe(topic, handler, group=group)

    def subscribe_view(self, topic: str, handler: Handler) -> View:
        return self.inner.subscribe_view(topic, handler)

    def expect(self, topic: str, predicate: Predicate) -> AbstractAsyncContextManager[Expectation]:
        return self.inner.expect(topic, predicate)


UNAVAILABLE = BusUnavailable("not acknowledged within 5 s")

FAST_RETRY = RetryPolicy(max_attempts=3, initial_delay_s=0.01, max_delay_s=0.05)


def build_dispatcher(
    bus: Bus,
    database: Database,
    webhooks: WebhookDirectory,
    *,
    clock: Clock | None = None,
    sleep: Sleeps | None = None,
    retry: RetryPolicy = FAST_RETRY,
    grace_s: float = 0.0,
    max_event_bytes: int = 256 * 1024,
    meter: Meter | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Dispatcher:
    return Dispatcher(
        bus=bus,
        webhooks=webhooks,
        processed=ProcessedEventsRepository(
            database.collection("processed_events"), retention=timedelta(days=8)
        ),
        deliveries=DeliveryLogRepository(
            database.collection("deliveries"),
            retention=timedelta(days=7),
            max_event_bytes=max_event_bytes,
        ),
        policy=DispatchPolicy(
            consumer_group="dispatcher-tests", retry=retry, unknown_webhook_grace_s=grace_s
        ),
        metrics=DispatcherMetrics(meter or MeterProvider().get_meter("tests")),
        tracer=(tracer_provider or TracerProvider()).get_tracer("tests"),
        clock=clock or Clock(),
        sleep=sleep or Sleeps(),
        jitter=lambda: 0.5,
    )
