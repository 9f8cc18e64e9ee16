"""Ingress throughput and latency against a real Kafka broker, next to a bare ASGI endpoint.

    .venv/bin/python -m benchmarks.ingress [--duration 8] [--connections 32]

Both servers run the same way (uvicorn, one worker, in a subprocess) on loopback, one after
the other, on the same machine, with the same signed ~7 KB GitHub `pull_request` requests:

- `bare`: a raw ASGI app that reads the body and answers 200 (the HTTP stack's ceiling);
- `ingress`: the standalone ingress service (view caught up, signature verified, event
  published with acks=all and acknowledged before the 200).

Per server: a warm-up, the maximum rate (wrk, closed loop, `--connections` connections; the
Python generator when wrk is not installed), then latency at half that rate (open loop,
`benchmarks.ingress_loadgen`, latency from each request's due time). The broker comes from
`KAFKA_BOOTSTRAP_SERVERS` or is started with the test harness (`tests/harness/kafka.py`).
"""

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from benchmarks.ingress_payload import body_bytes, github_signature, pull_request_payload
from integrations.bus.admin import ensure_topics
from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from integrations.contracts import WebhookState, topic_spec, topics
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key

ROOT = Path(__file__).resolve().parent.parent
P99_GOAL_MS = 25.0
WARMUP_S = 2.0
READY_WITHIN_S = 60.0
DISTINCT_REQUESTS = 1000


# --------------------------------------------------------------------------- the two apps


def ingress_app() -> FastAPI:
    """uvicorn factory: the standalone ingress service, settings from the environment."""
    from integrations.ingress.bootstrap import SERVICE
    from integrations.standalone import build_standalone_app

    return build_standalone_app(SERVICE)


async def bare_app(scope: Scope, receive: Receive, send: Send) -> None:
    """Reads the request body and answers 200: what any endpoint costs at the least."""
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"2")],
        }
    )
    await send({"type": "http.response.body", "body": b"{}"})


# --------------------------------------------------------------------------- fixtures


@dataclass(frozen=True)
class Webhook:
    webhook_id: str
    secret: str

    @property
    def path(self) -> str:
        return f"/api/integrations/github/webhooks/{self.webhook_id}/ingress"


@contextlib.contextmanager
def kafka_broker(workdir: Path) -> Iterator[str]:
    external = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if external:
        yield external
        return
    from tests.harness.kafka import KafkaServer

    server = KafkaServer(workdir / "kafka")
    server.start()
    try:
        yield server.bootstrap_servers
    finally:
        server.stop()


async def provision(bootstrap: str, count: int) -> tuple[list[Webhook], str]:
    """`count` GitHub webhooks on the compacted topic; and the derived ring ingress gets."""
    await ensure_topics(bootstrap, [topic_spec(topics.WEBHOOKS), topic_spec(topics.WEBHOOK_EVENTS)])
    ring = KeyRing([generate_root_key()])
    cipher = Cipher.from_key_ring(ring.export(), Purpose.WEBHOOK_SECRETS)
    webhooks = [
        Webhook(f"bench-{uuid.uuid4().hex[:12]}", secrets.token_hex(32)) for _ in range(count)
    ]
    bus = KafkaBus(KafkaSettings(bootstrap_servers=bootstrap, client_id="ingress-benchmark"))
    await bus.start()
    try:
        for webhook in webhooks:
            await bus.publish(topics.WEBHOOKS, _state(webhook, cipher), source="/benchmark")
    finally:
        await bus.stop()
    return webhooks, ring.derive(Purpose.WEBHOOK_SECRETS).export()


def _state(webhook: Webhook, cipher: Cipher) -> WebhookState:
    return WebhookState(
        webhook_id=webhook.webhook_id,
        user_id="bench-user",
        provider="github",
        credentials_id="bench-credentials",
        webhook_type="repo",
        resource="octo-org/workflow-engine",
        events=["pull_request"],
        secret_ciphertext=cipher.encrypt_text(
            webhook.secret, associated_data=webhook.webhook_id.encode()
        ),
        provider_webhook_id="4242",
        manual=False,
        ingress_url=f"http://127.0.0.1{webhook.path}",
        version=1,
        updated_at=datetime.now(UTC),
    )


@dataclass(frozen=True)
class Workload:
    """Signed requests: the same ~7 KB body to each webhook in turn, each its own delivery."""

    body: bytes
    headers: dict[str, str]  # common to every request
    targets: list[tuple[str, str]]  # (path, X-Hub-Signature-256) per webhook

    def raw(self, port: int, count: int) -> list[str]:
        raw = []
        for number in range(count):
            path, signature = self.targets[number % len(self.targets)]
            lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}"]
            lines += [f"{name}: {value}" for name, value in self.headers.items()]
            lines += [f"X-Hub-Signature-256: {signature}", f"X-GitHub-Delivery: {uuid.uuid4()}"]
            lines.append(f"Content-Length: {len(self.body)}")
            raw.append("\r\n".join(lines) + "\r\n\r\n" + self.body.decode())
        return raw


def workload(webhooks: list[Webhook]) -> Workload:
    body = body_bytes(pull_request_payload())
    headers = {
        "User-Agent": "GitHub-Hookshot/7c1b2f3",
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Hook-ID": "4242",
    }
    targets = [(w.path, github_signature(w.secret, body)) for w in webhooks]
    return Workload(body, headers, targets)


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@contextlib.contextmanager
def uvicorn_server(
    app: str, port: int, env: dict[str, str], *, factory: bool
) -> Iterator[subprocess.Popen[bytes]]:
    # One process, no reload, no access log: the same for both apps.
    command = [sys.executable, "-m", "uvicorn", app, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--log-level", "warning", "--no-access-log"]
    if factory:
        command.append("--factory")
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_until_ready(port: int, path: str) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} not ready within {READY_WITHIN_S} s")


# --------------------------------------------------------------------------- load


_WRK_SCRIPT = """
local body = io.open(os.getenv("BENCH_BODY")):read("*a")
local headers = {}
for name, value in string.gmatch(os.getenv("BENCH_HEADERS"), "([^\\n:]+): ([^\\n]+)") do
  headers[name] = value
end
local targets = {}
for path, signature in io.open(os.getenv("BENCH_TARGETS")):read("*a"):gmatch("(%S+) (%S+)") do
  targets[#targets + 1] = {path, signature}
end
local counter = 0
local run = os.getenv("BENCH_RUN")
request = function()
  counter = counter + 1
  local target = targets[(counter % #targets) + 1]
  headers["X-Hub-Signature-256"] = target[2]
  headers["X-GitHub-Delivery"] = run .. "-" .. counter
  return wrk.format("POST", target[1], headers, body)
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "status_errors": %d, ' ..
    '"socket_errors": %d, "p50_ms": %.3f, "p95_ms": %.3f, "p99_ms": %.3f}\\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


@dataclass(frozen=True)
class Load:
    """One server under load: where it listens, its process (for CPU time), the request files."""

    port: int
    pid: int
    workload: Workload
    connections: int
    workdir: Path

    def files(self) -> dict[str, str]:
        body = self.workdir / "body.json"
        body.write_bytes(self.workload.body)
        targets = self.workdir / "targets.txt"
        targets.write_text("".join(f"{p} {s}\n" for p, s in self.workload.targets))
        return {
            "BENCH_BODY": str(body),
            "BENCH_TARGETS": str(targets),
            "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in self.workload.headers.items()),
        }

    def requests_file(self) -> Path:
        path = self.workdir / "requests.json"
        path.write_text(json.dumps(self.workload.raw(self.port, DISTINCT_REQUESTS)))
        return path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def with_cpu(load: Load, run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """`run`'s summary plus the server's CPU milliseconds per answered request."""
    before = cpu_seconds(load.pid)
    summary = run()
    used = cpu_seconds(load.pid) - before
    summary["cpu_ms_per_request"] = used * 1000 / max(1, summary["requests"])
    return summary


def max_rate(load: Load, duration_s: float) -> dict[str, Any]:
    wrk = shutil.which("wrk")
    if wrk is None:
        # Without wrk: the open-loop generator, asked for far more than any server here does.
        return open_loop(load, rate=20_000, duration_s=duration_s)
    script = load.workdir / "ingress.lua"
    script.write_text(_WRK_SCRIPT)
    env = {**os.environ, **load.files(), "BENCH_RUN": uuid.uuid4().hex[:8]}
    url = f"http://127.0.0.1:{load.port}/"
    output = subprocess.run(
        [wrk, "-t1", f"-c{load.connections}", f"-d{duration_s:.0f}s", "-s", str(script), url],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH_JSON "))
    summary: dict[str, Any] = json.loads(line.removeprefix("BENCH_JSON "))
    summary["rps"] = summary["requests"] / (summary["duration_us"] / 1e6)
    summary["failures"] = summary["status_errors"] + summary["socket_errors"]
    return summary


def open_loop(load: Load, *, rate: float, duration_s: float) -> dict[str, Any]:
    command = [sys.executable, "-m", "benchmarks.ingress_loadgen", "--port", str(load.port)]
    command += ["--rate", f"{rate:.1f}", "--duration", str(duration_s)]
    command += ["--requests", str(load.requests_file())]
    output = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True)
    summary: dict[str, Any] = json.loads(output.stdout)
    failures = summary["failures"] + sum(
        count for status, count in summary["statuses"].items() if status != "200"
    )
    summary["failures"] = failures
    return summary


def measure(load: Load, duration_s: float) -> dict[str, Any]:
    max_rate(load, WARMUP_S)
    saturated = with_cpu(load, lambda: max_rate(load, duration_s))
    half_rate = saturated["rps"] / 2
    half = with_cpu(load, lambda: open_loop(load, rate=half_rate, duration_s=duration_s))
    return {"max": saturated, "half": half}


# --------------------------------------------------------------------------- report


def table(results: dict[str, dict[str, Any]]) -> str:
    rows = [
        "| server | phase | rate (req/s) | p50 ms | p95 ms | p99 ms | failed | CPU ms/req |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for server, phases in results.items():
        for phase, label in (("max", "max (closed loop)"), ("half", "half of max (open loop)")):
            r = phases[phase]
            rows.append(
                f"| {server} | {label} | {r['rps']:.0f} | {r['p50_ms']:.1f} | "
                f"{r['p95_ms']:.1f} | {r['p99_ms']:.1f} | {r['failures']} | "
                f"{r['cpu_ms_per_request']:.2f} |"
            )
    return "\n".join(rows)


def verdict(results: dict[str, dict[str, Any]]) -> str:
    ratio = results["ingress"]["max"]["rps"] / results["bare"]["max"]["rps"]
    p99 = results["ingress"]["half"]["p99_ms"]
    return (
        f"ingress/bare throughput: {ratio:.0%} (goal >= 50%: {'met' if ratio >= 0.5 else 'MISSED'})"
        f"; ingress p99 at half its max rate: {p99:.1f} ms "
        f"(goal <= {P99_GOAL_MS:.0f} ms: {'met' if p99 <= P99_GOAL_MS else 'MISSED'})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per phase")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--webhooks", type=int, default=48, help="webhooks the load cycles over")
    parser.add_argument("--json", type=Path, help="also write the raw results here")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]

    with tempfile.TemporaryDirectory(prefix="ingress-bench-") as temp:
        workdir = Path(temp)
        with kafka_broker(workdir) as bootstrap:
            webhooks, keys = asyncio.run(provision(bootstrap, args.webhooks))
            work = workload(webhooks)
            env = {
                "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                "WEBHOOK_SECRET_KEYS": keys,
                "JWT_SECRET": secrets.token_urlsafe(32),
                "SERVICE_TOKEN": secrets.token_urlsafe(32),
                "CREDENTIALS_INTERNAL_URL": "http://127.0.0.1:9",  # never called: view hits
                "LOG_LEVEL": "WARNING",
                "LOG_FORMAT": "text",
            }
            results: dict[str, dict[str, Any]] = {}
            for server, app, factory, ready_path in (
                ("bare", "benchmarks.ingress:bare_app", False, "/"),
                ("ingress", "benchmarks.ingress:ingress_app", True, "/readyz"),
            ):
                port = free_port()
                with uvicorn_server(app, port, env, factory=factory) as process:
                    wait_until_ready(port, ready_path)
                    load = Load(port, process.pid, work, args.connections, workdir)
                    results[server] = measure(load, args.duration)
                    print(f"{server}: done", file=sys.stderr)

    print(
        f"body {len(work.body)} bytes, {args.webhooks} webhooks, "
        f"{args.connections} connections, {args.duration:.0f} s/phase, {os.cpu_count()} cores, "
        f"load average {load_before:.1f} before / {os.getloadavg()[0]:.1f} after"
    )
    print(table(results))
    print(verdict(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
