"""Two dispatcher processes in one consumer group; one is SIGKILLed half-way through 5,000
events. Afterwards the execution topic holds exactly the expected request ids: none
missing, and a repeat only ever as an identical request (DESIGN §4 Dispatch)."""

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from pymongo import MongoClient

from integrations.bus import Record
from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from integrations.contracts import GraphExecutionRequested, Message, WebhookEventReceived, topics
from integrations.dispatcher.domain.fan_out import plan_dispatch
from tests.unit.dispatcher.kafka_kit import (
    Tail,
    chunks,
    group_assignment,
    provision_topics,
    start_group_at_end,
)
from tests.unit.dispatcher.kit import event, node, preset, webhook

# The drain's pace follows the machine's load (two to three minutes on 2 busy cores); the
# waits below fail on a stall, and this bounds the whole test.
pytestmark = [pytest.mark.integration, pytest.mark.timeout(900)]

EVENTS = 5_000
WEBHOOKS = 24  # spread over the topic's 12 partitions, so both processes get work
READY_WITHIN = 60.0
STALL_S = 60.0  # no new request for this long while some are missing: stuck, not slow
SETTLE_S = 3.0  # after the last expected id: time for a stray extra id to show up
SOURCE = "/integrations/tests/failover"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class DispatcherProcess:
    """`integrations serve dispatcher` as its own process, its output in a log file."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        console_script = Path(sys.executable).with_name("integrations")
        command = (
            [str(console_script)]
            if console_script.exists()
            else [sys.executable, "-m", "integrations.cli.main"]
        )
        self.process = subprocess.Popen(
            [*command, "serve", "dispatcher"],
            env={**env, "HTTP_PORT": str(self.port)},
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def wait_ready(self, client: httpx.AsyncClient) -> None:
        deadline = time.monotonic() + READY_WITHIN
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                response = await client.get(f"http://127.0.0.1:{self.port}/readyz")
                if response.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
        raise AssertionError(f"{self.name} not ready:\n{self.log_tail()}")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self._log.close()

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


@pytest.fixture
def mongo_database(mongodb_uri: str) -> Iterator[str]:
    name = f"failover_{uuid.uuid4().hex[:12]}"
    yield name
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    with client:
        client.drop_database(name)


async def test_a_replica_killed_halfway_loses_no_request_and_repeats_only_identical_ones(
    kafka_bootstrap: str, mongodb_uri: str, mongo_database: str, tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    user = f"user-{run}"
    states = {
        f"wh-{run}-{i}": webhook(
            f"wh-{run}-{i}",
            user_id=user,
            nodes=[node(f"n-{i}", graph_id=f"graph-{i}")],
            presets=[preset(f"p-{i}", graph_id=f"graph-p-{i}")],
        )
        for i in range(WEBHOOKS)
    }
    webhook_ids = list(states)
    events = [
        event(
            f"ev-{run}-{n}", webhook_id=webhook_ids[n % WEBHOOKS], user_id=user, event_type="push"
        )
        for n in range(EVENTS)
    ]
    expected = {
        request.request_id
        for e in events
        for request in plan_dispatch(e, states[e.webhook_id]).requests
    }
    assert len(expected) == 2 * EVENTS

    await provision_topics(kafka_bootstrap)
    group = f"failover-{run}"
    await start_group_at_end(kafka_bootstrap, group, topics.WEBHOOK_EVENTS)
    await start_group_at_end(kafka_bootstrap, f"{group}-results", topics.GRAPH_EXECUTION_RESULTS)
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "DATABASE_URL": mongodb_uri,
        "DATABASE_NAME": mongo_database,
        "CONSUMER_GROUP": group,
        "RESULTS_CONSUMER_GROUP": f"{group}-results",
        "HTTP_HOST": "127.0.0.1",
        "JWT_SECRET": "s" * 32,
        "LOG_LEVEL": "WARNING",
        "LOG_FORMAT": "text",
    }

    def ours(message: Message) -> bool:
        return isinstance(message, GraphExecutionRequested) and message.user_id == user

    bus = KafkaBus(KafkaSettings(bootstrap_servers=kafka_bootstrap, client_id=f"failover-{run}"))
    await bus.start()
    victim = DispatcherProcess("victim", env, tmp_path)
    survivor = DispatcherProcess("survivor", env, tmp_path)
    try:
        for state in states.values():
            await bus.publish(topics.WEBHOOKS, state, source=SOURCE)
        async with (
            httpx.AsyncClient(timeout=2.0) as client,
            Tail(kafka_bootstrap, topics.GRAPH_EXECUTION_REQUESTS, ours, key=user) as requests,
        ):
            await asyncio.gather(victim.wait_ready(client), survivor.wait_ready(client))

            def seen() -> set[str]:
                return {r.request_id for r in requests.messages(GraphExecutionRequested)}

            started = time.monotonic()
            # As if one ingress request had received them all: its trace must reach every
            # execution request, through both processes.
            with TracerProvider().get_tracer("ingress").start_as_current_span("ingress") as span:
                trace_id = f"{span.get_span_context().trace_id:032x}"
                for batch in chunks(events, 250):
                    await asyncio.gather(*(publish(bus, e) for e in batch))

            await requests.wait_while_arriving(
                lambda: len(seen()) >= len(expected) // 2, stall_s=STALL_S
            )
            held = await group_assignment(kafka_bootstrap, group, topics.WEBHOOK_EVENTS)
            victim.kill()
            at_kill = len(seen())
            try:
                await requests.wait_while_arriving(lambda: seen() >= expected, stall_s=STALL_S)
            except TimeoutError:
                missing = len(expected - seen())
                raise AssertionError(
                    f"{missing} requests missing; survivor log:\n{survivor.log_tail()}"
                ) from None
            drained_s = time.monotonic() - started
            await asyncio.sleep(SETTLE_S)
    finally:
        victim.stop()
        survivor.stop()
        await bus.stop()

    # Both replicas held partitions (with a backlog on each) when one was killed.
    assert len(held) == 2, f"group members at the kill: {held}"
    assert all(held), f"a member without partitions at the kill: {held}"
    assert at_kill < len(expected), "the victim was killed after everything was dispatched"
    assert seen() == expected, f"unexpected ids: {sorted(seen() - expected)[:5]}"
    bodies: dict[str, set[bytes]] = defaultdict(set)
    for record, message in requests.records:
        assert isinstance(message, GraphExecutionRequested)
        assert record.value is not None
        bodies[message.request_id].add(record.value)
    assert all(len(versions) == 1 for versions in bodies.values()), "a repeat differed"
    traces = {trace_of(record) for record, _ in requests.records}
    assert traces == {trace_id}
    repeats = len(requests.records) - len(expected)
    client_db: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    with client_db:
        processed = client_db[mongo_database]["processed_events"].count_documents({})
    assert processed == EVENTS
    print(  # shown with -s: how the run went
        f"\n{EVENTS} events, {len(expected)} requests in {drained_s:.1f} s; killed at "
        f"{at_kill} requests; {repeats} identical repeats"
    )


def trace_of(record: Record) -> str | None:
    traceparent = record.header("traceparent")
    return None if traceparent is None else traceparent.decode().split("-")[1]


async def publish(bus: KafkaBus, message: WebhookEventReceived) -> None:
    await bus.publish(topics.WEBHOOK_EVENTS, message, source=SOURCE)
