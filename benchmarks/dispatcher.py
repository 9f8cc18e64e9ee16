"""Dispatcher throughput and end-to-end latency against a real Kafka broker.

    .venv/bin/python -m benchmarks.dispatcher [--events 1500] [--replicas 1] [--latency-s 15]
        [--json FILE]

Every event matches three triggers (two nodes, one of them through an event filter, and a
preset), so each one becomes three execution requests. The dispatcher runs as it does in
production: `integrations serve dispatcher` in its own process(es), one consumer group,
its store on the MongoDB-wire server (or `--database sqlite`). This process publishes the
events and follows the execution-request topic:

1. warm-up: a few events, until their requests are out;
2. throughput: `--events` events published at once (a backlog); events/s from the first
   publish to the last request seen;
3. latency: events at a fixed rate (`--rate`, default half the measured throughput) for
   `--latency-s` seconds; latency from when an event was due to publish until each of its
   requests arrives (the first, and all three), so a dispatcher that falls behind shows it.

The broker comes from `KAFKA_BOOTSTRAP_SERVERS`, the store from `MONGODB_URI`, or both are
started with the test harness on loopback. The whole run is bounded by `--budget-s`.
"""

import argparse
import asyncio
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from integrations.bus.admin import ensure_topics
from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from integrations.contracts import (
    TOPICS,
    EventFilter,
    NodeTrigger,
    PresetTrigger,
    WebhookEventReceived,
    WebhookState,
    topics,
)

SOURCE = "/integrations/benchmarks/dispatcher"
WEBHOOKS = 24  # over the topic's 12 partitions
TRIGGERS = 3
WARMUP_EVENTS = 50
READY_WITHIN_S = 60.0
PUBLISH_BATCH = 250


@dataclass
class Arrivals:
    """When each event's requests arrived, by event id (monotonic clock of this process)."""

    times: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def complete(self, event_ids: list[str], per_event: int = TRIGGERS) -> int:
        return sum(1 for e in event_ids if len(self.times.get(e, ())) >= per_event)

    async def wait_complete(
        self, event_ids: list[str], deadline: float, per_event: int = TRIGGERS
    ) -> float | None:
        """Monotonic time the last of them completed, or None at the deadline.

        Complete: `per_event` requests arrived (every trigger of the event).
        """
        while self.complete(event_ids, per_event) < len(event_ids):
            self.changed.clear()
            try:
                async with asyncio.timeout(max(0.0, deadline - time.monotonic())):
                    await self.changed.wait()
            except TimeoutError:
                return None
        if not event_ids:
            return time.monotonic()
        return max(max(self.times[e][:per_event]) for e in event_ids)


# --------------------------------------------------------------------------- servers


@contextlib.contextmanager
def servers(database: str, workdir: Path) -> Iterator[tuple[str, str, str]]:
    """(bootstrap servers, database URL, description), from the environment or the harness."""
    with contextlib.ExitStack() as stack:
        bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
        kafka_text = f"external Kafka at {bootstrap}"
        if not bootstrap:
            from tests.harness.kafka import KafkaServer

            kafka = KafkaServer(workdir / "kafka")
            kafka.start()
            stack.callback(kafka.stop)
            bootstrap, kafka_text = kafka.bootstrap_servers, kafka.description
        if database == "sqlite":
            yield bootstrap, f"sqlite:///{workdir / 'dispatcher.db'}", f"{kafka_text}; SQLite"
            return
        uri = os.environ.get("MONGODB_URI", "").strip()
        mongo_text = "external MongoDB ($MONGODB_URI)"
        if not uri:
            from tests.harness.mongo import MongoWireServer

            mongo = MongoWireServer(workdir / "mongo")
            mongo.start()
            stack.callback(mongo.stop)
            uri, mongo_text = mongo.uri, mongo.description
        yield bootstrap, uri, f"{kafka_text}; {mongo_text}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.asynccontextmanager
async def dispatchers(
    count: int, env: dict[str, str], workdir: Path
) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    console = Path(sys.executable).with_name("integrations")
    command = (
        [str(console)] if console.exists() else [sys.executable, "-m", "integrations.cli.main"]
    )
    processes: list[subprocess.Popen[bytes]] = []
    ports = [free_port() for _ in range(count)]
    logs = [(workdir / f"dispatcher-{n}.log").open("wb") for n in range(count)]
    try:
        for port, log in zip(ports, logs, strict=True):
            processes.append(
                spawn([*command, "serve", "dispatcher"], {**env, "HTTP_PORT": str(port)}, log)
            )
        async with httpx.AsyncClient(timeout=2.0) as client:
            await asyncio.gather(*(ready(client, port) for port in ports))
        yield processes
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
        for log in logs:
            log.close()


def cpu_seconds(processes: list[subprocess.Popen[bytes]]) -> float:
    """User + system CPU time the processes used so far (Linux /proc; 0 elsewhere)."""
    total = 0.0
    for process in processes:
        try:
            fields = Path(f"/proc/{process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def spawn(command: list[str], env: dict[str, str], log: BinaryIO) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


async def ready(client: httpx.AsyncClient, port: int) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if (await client.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise RuntimeError(f"dispatcher on port {port} not ready within {READY_WITHIN_S} s")


# --------------------------------------------------------------------------- kafka helpers


async def partitions_of(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    return [TopicPartition(topic, p["partition"]) for p in described["partitions"]]


async def start_group_at_end(bootstrap: str, group: str, topic: str) -> None:
    """A new group would start at the earliest record: skip what earlier runs left."""
    partitions = await partitions_of(bootstrap, topic)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(dict((await consumer.end_offsets(partitions)).items()))
    finally:
        await consumer.stop()


async def follow_requests(bootstrap: str, user_id: str, arrivals: Arrivals) -> None:
    """Records each request of `user_id` as it arrives; a cheap parse, not a full decode."""
    partitions = await partitions_of(bootstrap, topics.GRAPH_EXECUTION_REQUESTS)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await consumer.start()
    try:
        consumer.assign(partitions)
        for partition, end in (await consumer.end_offsets(partitions)).items():
            consumer.seek(partition, end)
        while True:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.monotonic()
            for raw in (raw for batch in batches.values() for raw in batch):
                if raw.key != user_id.encode():
                    continue
                body = json.loads(raw.value)
                arrivals.times[body["source"]["event_id"]].append(now)
            if batches:
                arrivals.changed.set()
    finally:
        await consumer.stop()


# --------------------------------------------------------------------------- workload


def webhooks(run: str, user_id: str) -> list[WebhookState]:
    push_only = EventFilter(input_name="events", event_format="{event}", choices={"push": True})
    return [
        WebhookState(
            webhook_id=f"bench-{run}-{i}",
            user_id=user_id,
            provider="github",
            credentials_id="cred-1",
            webhook_type="repo",
            resource=f"owner/repo-{i}",
            events=["push"],
            secret_ciphertext="v1:key-1:bm9uY2U:Y2lwaGVydGV4dA",
            provider_webhook_id=str(i),
            manual=False,
            ingress_url=f"https://platform.example/api/integrations/github/webhooks/{i}/ingress",
            node_triggers=[
                NodeTrigger(node_id="node-a", graph_id=f"graph-a-{i}", graph_version=1),
                NodeTrigger(
                    node_id="node-b", graph_id=f"graph-b-{i}", graph_version=1, filter=push_only
                ),
            ],
            preset_triggers=[
                PresetTrigger(
                    preset_id=f"preset-{i}",
                    graph_id=f"graph-c-{i}",
                    graph_version=1,
                    trigger_node_id="node-c",
                    is_active=True,
                    inputs={"repo": f"owner/repo-{i}"},
                )
            ],
            version=1,
            updated_at=datetime.now(UTC),
        )
        for i in range(WEBHOOKS)
    ]


class Events:
    def __init__(self, run: str, user_id: str) -> None:
        self._run = run
        self._user_id = user_id
        self._next = 0

    def make(self, count: int) -> list[WebhookEventReceived]:
        made = []
        for _ in range(count):
            n = self._next
            self._next += 1
            made.append(
                WebhookEventReceived(
                    event_id=f"bench-{self._run}-{n}",
                    provider="github",
                    webhook_id=f"bench-{self._run}-{n % WEBHOOKS}",
                    user_id=self._user_id,
                    event_type="push",
                    # A small push payload (~1 KB): the dispatcher copies it three times.
                    payload={"ref": "refs/heads/main", "n": n, "commits": [{"id": "x" * 40}] * 8},
                    received_at=datetime.now(UTC),
                )
            )
        return made


async def publish_all(bus: KafkaBus, events: list[WebhookEventReceived]) -> None:
    for start in range(0, len(events), PUBLISH_BATCH):
        batch = events[start : start + PUBLISH_BATCH]
        await asyncio.gather(*(bus.publish(topics.WEBHOOK_EVENTS, e, source=SOURCE) for e in batch))


async def paced(bus: KafkaBus, events: Events, rate: float, seconds: float) -> dict[str, float]:
    """Publish at `rate` for `seconds`; when each event was due, by event id."""
    due: dict[str, float] = {}
    tasks: list[asyncio.Task[None]] = []
    start = time.monotonic() + 0.2
    for i, message in enumerate(events.make(int(rate * seconds))):
        at = start + i / rate
        await asyncio.sleep(max(0.0, at - time.monotonic()))
        due[message.event_id] = at
        # Not awaited in turn: a slow acknowledgement must not delay the schedule.
        tasks.append(
            asyncio.create_task(bus.publish(topics.WEBHOOK_EVENTS, message, source=SOURCE))
        )
    await asyncio.gather(*tasks)
    return due


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def run(args: argparse.Namespace) -> dict[str, object]:
    budget_end = time.monotonic() + args.budget_s
    workdir = Path(tempfile.mkdtemp(prefix="bench-dispatcher-"))
    with servers(args.database, workdir) as (bootstrap, database_url, description):
        await ensure_topics(bootstrap, TOPICS)
        run_id = uuid.uuid4().hex[:8]
        user_id = f"bench-user-{run_id}"
        group = f"bench-dispatcher-{run_id}"
        await start_group_at_end(bootstrap, group, topics.WEBHOOK_EVENTS)
        await start_group_at_end(bootstrap, f"{group}-results", topics.GRAPH_EXECUTION_RESULTS)
        bus = KafkaBus(KafkaSettings(bootstrap_servers=bootstrap, client_id=f"bench-{run_id}"))
        await bus.start()
        arrivals = Arrivals()
        follower = asyncio.create_task(follow_requests(bootstrap, user_id, arrivals))
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "DATABASE_URL": database_url,
            "DATABASE_NAME": f"bench_{run_id}",
            "CONSUMER_GROUP": group,
            "RESULTS_CONSUMER_GROUP": f"{group}-results",
            "JWT_SECRET": "b" * 32,
            "LOG_LEVEL": "WARNING",
            "LOG_FORMAT": "text",
        }
        try:
            for state in webhooks(run_id, user_id):
                await bus.publish(topics.WEBHOOKS, state, source=SOURCE)
            events = Events(run_id, user_id)
            async with dispatchers(args.replicas, env, workdir) as processes:
                warmup = events.make(WARMUP_EVENTS)
                await publish_all(bus, warmup)
                if await arrivals.wait_complete([e.event_id for e in warmup], budget_end) is None:
                    raise RuntimeError("warm-up did not complete within the budget")

                backlog = events.make(args.events)
                cpu_before = cpu_seconds(processes)
                started = time.monotonic()
                await publish_all(bus, backlog)
                published_s = time.monotonic() - started
                # Leave room for the latency phase: the backlog gets what the budget spares.
                drain_deadline = budget_end - args.latency_s - 10
                finished = await arrivals.wait_complete(
                    [e.event_id for e in backlog], drain_deadline
                )
                done = arrivals.complete([e.event_id for e in backlog])
                elapsed = (finished or time.monotonic()) - started
                cpu_used = cpu_seconds(processes) - cpu_before
                throughput = done / elapsed

                rate = args.rate or max(1.0, round(throughput / 2))
                due: dict[str, float] = {}
                # Latency is only meaningful with no backlog left in front of it.
                rest = [e.event_id for e in backlog]
                if await arrivals.wait_complete(rest, budget_end - args.latency_s - 5) is not None:
                    due = await paced(bus, events, rate, args.latency_s)
                    await arrivals.wait_complete(list(due), budget_end)
        finally:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
            await bus.stop()

    first = [arrivals.times[e][0] - t for e, t in due.items() if arrivals.times.get(e)]
    all_three = [
        max(arrivals.times[e][:TRIGGERS]) - t
        for e, t in due.items()
        if len(arrivals.times.get(e, ())) >= TRIGGERS
    ]
    return {
        "servers": description,
        "replicas": args.replicas,
        "database": args.database,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "cpus": os.cpu_count(),
        "throughput": {
            "events": args.events,
            "completed": done,
            "seconds": round(elapsed, 2),
            "events_per_s": round(throughput, 1),
            "requests_per_s": round(throughput * TRIGGERS, 1),
            "publish_seconds": round(published_s, 2),
            "dispatcher_cpu_ms_per_event": round(cpu_used / max(done, 1) * 1000, 2),
        },
        "latency": {
            "rate_per_s": rate,
            "events": len(due),
            "completed": len(all_three),
            "first_request_ms": summary_ms(first),
            "all_three_requests_ms": summary_ms(all_three),
        },
    }


def summary_ms(values: list[float]) -> dict[str, float] | None:
    if not values:
        return None  # the phase was skipped: the backlog did not drain within the budget
    return {
        "p50": round(percentile(values, 0.50) * 1000, 1),
        "p90": round(percentile(values, 0.90) * 1000, 1),
        "p99": round(percentile(values, 0.99) * 1000, 1),
        "max": round(max(values) * 1000, 1),
        "mean": round(statistics.fmean(values) * 1000, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1500, help="Backlog for throughput.")
    parser.add_argument("--replicas", type=int, default=1, help="Dispatcher processes.")
    parser.add_argument("--latency-s", type=float, default=15.0, help="Latency phase length.")
    parser.add_argument("--rate", type=float, default=0.0, help="Events/s in the latency phase.")
    parser.add_argument("--database", choices=["mongo", "sqlite"], default="mongo")
    parser.add_argument("--budget-s", type=float, default=100.0, help="Bound on the whole run.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    text = json.dumps(asyncio.run(run(args)), indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
