"""The Kafka broker stops for 20 s in the middle of 2,000 signed GitHub webhooks, then comes
back (DESIGN §4 Ingress: acknowledged only once the broker has it; 503 otherwise).

Ingress may answer 2xx only for a delivery the broker acknowledged, so every 2xx must end as
execution requests; while the broker is down every answer is a 503 (the provider retries);
once it is back the same processes take deliveries again and the dispatcher fans them out.

This test found that the idempotent producers refused every record after such an outage
(`OutOfOrderSequenceNumber`, forever); the bus now replaces a producer in that state (see
tests/integration/test_kafka_bus_broker_outage.py)."""

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass

import pytest

from tests.e2e.kit import (
    Answer,
    ExecutionRequests,
    deliver,
    github_webhook,
    steady_load,
    until_accepted,
    until_dispatched,
)
from tests.e2e.leaks import LeakScan
from tests.e2e.stack import StackFactory
from tests.harness.kafka import KafkaServer

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.timeout(600),
]

WEBHOOKS = 2_000
RATE_PER_S = 40  # 50 s of sending: load before, during and after the outage
STOP_AFTER = 400  # answered deliveries before the broker stops
DOWN_FOR_S = 20.0
PUBLISH_TIMEOUT_S = 2.0  # ingress's wait for acks=all before its 503
MIN_OUTAGE_ANSWERS = 100
DRAIN_WITHIN_S = 120.0
RECOVER_WITHIN_S = 90.0
AFTERWARDS = 20


@dataclass
class Outage:
    stopped_at: float = float("inf")
    """When the broker process had exited."""
    restarting_at: float = float("inf")
    """When its start began: nothing before could have reached it."""
    back_at: float = float("inf")


async def outage(broker: KafkaServer, flowing: asyncio.Event, outage: Outage) -> None:
    await flowing.wait()
    await broker.astop()
    outage.stopped_at = time.monotonic()
    await asyncio.sleep(DOWN_FOR_S)
    outage.restarting_at = time.monotonic()
    await broker.astart()
    outage.back_at = time.monotonic()


async def test_a_broker_stopped_for_twenty_seconds_under_load_loses_no_acknowledged_webhook(
    stacks: StackFactory, leak_scan: LeakScan, kafka_fault_server: KafkaServer
) -> None:
    stack = await stacks.start(
        overrides={"ingress": {"KAFKA_PUBLISH_TIMEOUT_S": str(PUBLISH_TIMEOUT_S)}}
    )
    webhook = await github_webhook(stack, leak_scan)
    requests = ExecutionRequests(kafka_fault_server.bootstrap_servers, webhook.user_id)
    await requests.mark()
    # Both views (ingress, dispatcher) hold the webhook with both triggers before the load.
    first = await until_accepted(webhook, stack.http, within=60)
    await until_dispatched(requests, [first], webhook.nodes, within=60)

    answered: list[Answer] = []
    flowing = asyncio.Event()
    window = Outage()
    await asyncio.gather(
        steady_load(webhook, stack.http, WEBHOOKS, RATE_PER_S, answered, (STOP_AFTER, flowing)),
        outage(kafka_fault_server, flowing, window),
    )

    statuses = Counter(a.status for a in answered)
    assert set(statuses) <= {200, 503}, f"answers other than 200 and 503: {statuses}"
    during = [a for a in answered if a.sent_at > window.stopped_at]
    during = [a for a in during if a.answered_at < window.restarting_at]
    assert len(during) >= MIN_OUTAGE_ANSWERS, f"only {len(during)} answers during the outage"
    assert {a.status for a in during} == {503}, Counter(a.status for a in during)
    acknowledged = [a.delivery_id for a in answered if a.status == 200]
    before = [a for a in answered if a.status == 200 and a.answered_at < window.stopped_at]
    assert len(before) >= STOP_AFTER // 2, "the broker stopped before the load was flowing"
    # Every 2xx is an event on the broker that the dispatcher turns into its requests.
    await until_dispatched(requests, acknowledged, webhook.nodes, within=DRAIN_WITHIN_S)

    # Recovery, with the very processes that lived through the outage.
    first = await until_accepted(webhook, stack.http, within=RECOVER_WITHIN_S)
    later = [await deliver(webhook, stack.http, str(uuid.uuid4())) for _ in range(AFTERWARDS)]
    assert Counter(a.status for a in later) == {200: AFTERWARDS}
    await until_dispatched(
        requests, [first, *(a.delivery_id for a in later)], webhook.nodes, within=60
    )
    assert stack.restarted() == []
    print(  # shown with -s: how the run went
        f"\n{WEBHOOKS} webhooks: {dict(statuses)}; {len(during)} answered while the broker was "
        f"down; broker back {window.back_at - window.restarting_at:.1f} s after its start"
    )
