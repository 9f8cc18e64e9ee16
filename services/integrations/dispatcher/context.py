"""What the dispatcher's verbs are handed: built by bootstrap, or by tests with in-memory
adapters."""

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Final

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Tracer

from integrations.bus import Bus, Record
from integrations.dispatcher.adapters.instruments import DispatcherMetrics
from integrations.dispatcher.domain.ports import DeliveryLog, ProcessedEvents, WebhookDirectory
from integrations.dispatcher.domain.retry import RetryPolicy
from integrations.telemetry import extract_context

SOURCE: Final = "/integrations/dispatcher"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class DispatchPolicy:
    consumer_group: str
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # How long an event waits for a webhook its view does not know yet: the webhook's state
    # and its first event can be published within milliseconds of each other.
    unknown_webhook_grace_s: float = 2.0


@dataclass(frozen=True, slots=True)
class Dispatcher:
    bus: Bus
    webhooks: WebhookDirectory
    processed: ProcessedEvents
    deliveries: DeliveryLog
    policy: DispatchPolicy
    metrics: DispatcherMetrics
    tracer: Tracer
    clock: Callable[[], datetime] = utc_now
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    jitter: Callable[[], float] = random.random  # spreads retries; not a secret


def parent_context(record: Record) -> otel_context.Context | None:
    """The context a record's processing span belongs to.

    On Kafka, FastStream's middleware already made a consume span current, itself a child
    of the producer's (ingress's) span; the in-memory bus has none, so the record's own
    `traceparent` is the parent. Either way, requests published inside carry that trace.
    """
    if trace.get_current_span().get_span_context().is_valid:
        return None
    return extract_context(record.headers)
