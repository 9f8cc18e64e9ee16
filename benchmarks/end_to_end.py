"""End to end: a webhook POST to ingress until its execution request is on Kafka.

    .venv/bin/python -m benchmarks.end_to_end [--rate 20] [--duration 30] [--json FILE]

The four services run as deployed, each its own `integrations serve` process
(`tests/harness/local_stack.py`), on a real Kafka broker and the MongoDB-wire test server.
The benchmark links a graph node to each of `--webhooks` manual `generic_webhook` webhooks
through the credentials service's internal trigger route, so every delivery becomes exactly
one `GraphExecutionRequested`; it then follows `platform.graph-execution-requests.v1` in this
process and, after a warm-up, POSTs small JSON deliveries at a fixed rate (open loop: a slow
answer does not delay the next send). Latency runs from just before each POST is sent until
its request record arrives here; it includes ingress, the publish, the dispatcher's consume,
store round trips and publish, and this consumer's fetch.

Peak memory is each service process's VmHWM (`/proc/PID/status`) read after the run, before
the services stop: the largest resident set each one had over start-up, warm-up and load.

The broker and store come from `KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URI` when both are
set, or are started with the test harness on loopback.
"""

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from benchmarks.dispatcher import Arrivals, follow_requests, start_group_at_end, summary_ms
from integrations.bus.admin import ensure_topics
from integrations.catalog import SERVICES
from integrations.contracts import TOPICS, topics
from tests.harness.local_stack import Infra, ServiceProcess, running_infra, running_services

WARMUP_WITHIN_S = 60.0
DRAIN_S = 30.0  # how long a request may take to show up after the last POST


@contextlib.contextmanager
def infrastructure(workdir: Path) -> Iterator[Infra]:
    """The servers named in the environment (topics ensured), or the harness's own."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    uri = os.environ.get("MONGODB_URI", "").strip()
    if bootstrap and uri:
        asyncio.run(ensure_topics(bootstrap, TOPICS))
        yield Infra(bootstrap, uri)
        return
    with running_infra(workdir) as infra:
        yield infra


@dataclass
class Sent:
    """One delivery: when it was due and sent, when ingress answered, what, its event id."""

    due: float
    sent_at: float
    answered_at: float = 0.0
    status: int = 0
    event_id: str | None = None


@dataclass
class Workload:
    services: dict[str, ServiceProcess]
    user_id: str
    ingress_urls: list[str] = field(default_factory=list)
    delivered: int = 0

    async def link(self, client: httpx.AsyncClient, count: int) -> None:
        """`count` manual webhooks, each with one graph node linked (one request per event)."""
        credentials = self.services["credentials"]
        token = credentials.env["SERVICE_TOKEN"]
        for n in range(count):
            answer = await client.post(
                f"{credentials.url}/internal/triggers/activate-node",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "user_id": self.user_id,
                    "provider": "generic_webhook",
                    "webhook_type": "plain",
                    "events": ["plain"],
                    "manual": True,
                    "graph_id": f"bench-graph-{n}",
                    "graph_version": 1,
                    "node_id": f"bench-trigger-{n}",  # a node has one webhook: its own
                },
            )
            answer.raise_for_status()
            self.ingress_urls.append(answer.json()["ingress_url"])

    async def post(self, client: httpx.AsyncClient, n: int, due: float | None = None) -> Sent:
        """One delivery to webhook `n` (modulo their number), due at `due` (default: now)."""
        # Ingress names an event without a delivery id by a hash of its body: a counter keeps
        # every delivery a distinct event (a repeated body would be a redelivery).
        self.delivered += 1
        items = [{"id": i, "x": "y" * 32} for i in range(8)]  # ~0.5 KB in all
        payload = {"delivery": self.delivered, "action": "benchmark", "items": items}
        now = time.monotonic()
        sent = Sent(now if due is None else due, now)
        try:
            response = await client.post(
                self.ingress_urls[n % len(self.ingress_urls)], json=payload
            )
        except httpx.HTTPError:
            sent.answered_at = time.monotonic()
            return sent
        sent.answered_at = time.monotonic()
        sent.status = response.status_code
        if response.status_code == 200:
            sent.event_id = response.json()["event_id"]
        return sent


async def warm_up(client: httpx.AsyncClient, workload: Workload, arrivals: Arrivals) -> None:
    """Until one delivery to every webhook came out as a request: views caught up, pools warm."""
    deadline = time.monotonic() + WARMUP_WITHIN_S
    pending = set(range(len(workload.ingress_urls)))
    while pending:
        if time.monotonic() > deadline:
            raise RuntimeError(f"warm-up: {len(pending)} webhook(s) never yielded a request")
        sent = {n: await workload.post(client, n) for n in sorted(pending)}
        ids = [s.event_id for s in sent.values() if s.event_id]
        await arrivals.wait_complete(ids, min(deadline, time.monotonic() + 5), per_event=1)
        pending = {n for n, s in sent.items() if s.event_id not in arrivals.times}
        if pending:
            statuses = {n: sent[n].status for n in pending}
            print(f"warm-up: no request yet (webhook: HTTP status) {statuses}", file=sys.stderr)
            await asyncio.sleep(0.5)


async def open_loop(
    client: httpx.AsyncClient, workload: Workload, rate: float, seconds: float
) -> list[Sent]:
    tasks: list[asyncio.Task[Sent]] = []
    start = time.monotonic() + 0.1
    for n in range(int(rate * seconds)):
        due = start + n / rate
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        tasks.append(asyncio.create_task(workload.post(client, n, due)))
    return list(await asyncio.gather(*tasks))


async def measure(
    services: dict[str, ServiceProcess], bootstrap: str, args: argparse.Namespace
) -> dict[str, Any]:
    workload = Workload(services, f"bench-user-{uuid.uuid4().hex[:8]}")
    arrivals = Arrivals()
    follower = asyncio.create_task(follow_requests(bootstrap, workload.user_id, arrivals))
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=64)
    try:
        async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
            await workload.link(client, args.webhooks)
            await warm_up(client, workload, arrivals)
            sent = await open_loop(client, workload, args.rate, args.duration)
        accepted = {s.event_id: s.sent_at for s in sent if s.event_id is not None}
        await arrivals.wait_complete(list(accepted), time.monotonic() + DRAIN_S, per_event=1)
    finally:
        follower.cancel()
        await asyncio.gather(follower, return_exceptions=True)
    latencies = [arrivals.times[e][0] - at for e, at in accepted.items() if e in arrivals.times]
    return {
        "rate_per_s": args.rate,
        "duration_s": args.duration,
        "webhooks": args.webhooks,
        "sent": len(sent),
        "statuses": Counter(str(s.status or "error") for s in sent),
        "accepted": len(accepted),
        "completed": len(latencies),
        "missing": len(accepted) - len(latencies),
        "latency_ms": summary_ms(latencies),
        "ingress_answer_ms": summary_ms([s.answered_at - s.sent_at for s in sent]),
        # How late POSTs left against the schedule: latency is counted from the send, so a
        # generator starved of CPU would hide delay here rather than in the figures above.
        "send_lag_ms": summary_ms([s.sent_at - s.due for s in sent]),
    }


def status_kib(pid: int) -> dict[str, int]:
    """VmHWM (peak resident set) and VmRSS of a process, in KiB (Linux)."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            values[name] = int(value.split()[0])
    return values


def run(args: argparse.Namespace) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    run_id = uuid.uuid4().hex[:8]
    # Groups of their own, started at the topics' ends: a shared broker may hold records of
    # other runs (the ingress benchmark's events) that this dispatcher must not wade through.
    groups = {
        "dispatcher": {
            "CONSUMER_GROUP": f"bench-e2e-dispatcher-{run_id}",
            "RESULTS_CONSUMER_GROUP": f"bench-e2e-results-{run_id}",
        },
        "credentials": {
            "COMMANDS_CONSUMER_GROUP": f"bench-e2e-commands-{run_id}",
            "TRIGGER_COMMANDS_CONSUMER_GROUP": f"bench-e2e-triggers-{run_id}",
        },
    }
    overrides = {name: {"LOG_LEVEL": "WARNING", **groups.get(name, {})} for name in SERVICES}
    workdir = Path(tempfile.mkdtemp(prefix="bench-e2e-"))
    with infrastructure(workdir) as infra:
        asyncio.run(
            start_group_at_end(
                infra.kafka_bootstrap, groups["dispatcher"]["CONSUMER_GROUP"], topics.WEBHOOK_EVENTS
            )
        )
        try:
            with running_services(
                infra.env(),
                workdir / "logs",
                database_prefix=f"bench_{run_id}",
                overrides=overrides,
            ) as processes:
                services = {p.name: p for p in processes}
                results = asyncio.run(measure(services, infra.kafka_bootstrap, args))
                # Before the services stop: VmHWM is gone with the process.
                memory = {p.name: status_kib(p.process.pid) for p in processes}
        except BaseException:
            print(f"the services' logs are in {workdir / 'logs'}", file=sys.stderr)
            raise
    shutil.rmtree(workdir, ignore_errors=True)
    results["memory_mib"] = {
        name: {"peak": round(kib["VmHWM"] / 1024, 1), "end": round(kib["VmRSS"] / 1024, 1)}
        for name, kib in memory.items()
    }
    results["load_average_1m"] = {"before": load_before, "after": os.getloadavg()[0]}
    results["cpus"] = os.cpu_count()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20.0, help="POSTs per second.")
    parser.add_argument("--duration", type=float, default=30.0, help="Seconds of load.")
    parser.add_argument("--webhooks", type=int, default=4, help="Webhooks the POSTs cycle over.")
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    args = parser.parse_args()
    results = run(args)
    text = json.dumps(results, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)
    if results["missing"] or results["latency_ms"] is None:
        print("some accepted deliveries never became execution requests", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
