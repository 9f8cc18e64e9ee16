"""The dispatcher is SIGKILLed while signed webhooks stream in through ingress, then started
again (DESIGN §4 Dispatch: records are acknowledged only after their requests are): no
acknowledged delivery may end without its execution requests.

tests/integration/test_dispatcher_failover.py kills one of two replicas, with events published
straight to the topic; here the only dispatcher dies, and its restart must pick up both what
it was working on and what arrived while it was down."""

import asyncio

import pytest

from tests.e2e.kit import (
    Answer,
    ExecutionRequests,
    github_webhook,
    steady_load,
    until_accepted,
    until_dispatched,
)
from tests.e2e.leaks import LeakScan
from tests.e2e.stack import StackFactory

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

WEBHOOKS = 600
RATE_PER_S = 40  # 15 s of sending, with the dispatcher down in the middle
KILL_AFTER = 150  # answered deliveries before the kill
DRAIN_WITHIN_S = 120.0


async def test_a_dispatcher_killed_mid_stream_and_restarted_leaves_no_delivery_undispatched(
    stacks: StackFactory, leak_scan: LeakScan, kafka_bootstrap: str
) -> None:
    stack = await stacks.start()
    webhook = await github_webhook(stack, leak_scan)
    requests = ExecutionRequests(kafka_bootstrap, webhook.user_id)
    await requests.mark()
    first = await until_accepted(webhook, stack.http, within=60)
    await until_dispatched(requests, [first], webhook.nodes, within=60)

    answered: list[Answer] = []
    flowing = asyncio.Event()

    async def crash_and_restart() -> int:
        await flowing.wait()
        await stack.kill("dispatcher")
        dispatched = len(await requests.by_event())
        await stack.start("dispatcher")
        return dispatched

    _, dispatched_at_kill = await asyncio.gather(
        steady_load(webhook, stack.http, WEBHOOKS, RATE_PER_S, answered, (KILL_AFTER, flowing)),
        crash_and_restart(),
    )

    assert [a.status for a in answered] == [200] * WEBHOOKS
    # Killed mid-stream: it had dispatched something, and most deliveries were still to come.
    assert 1 < dispatched_at_kill < WEBHOOKS // 2
    await until_dispatched(
        requests, [a.delivery_id for a in answered], webhook.nodes, within=DRAIN_WITHIN_S
    )
    assert stack.restarted() == ["dispatcher"]
