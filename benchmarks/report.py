"""Every benchmark, one after the other, and one table of their headline figures.

    .venv/bin/python -m benchmarks.report [--quick] [--out DIR] [--credentials-store sqlite]

Runs `benchmarks.ingress`, `benchmarks.end_to_end`, `benchmarks.dispatcher` and
`benchmarks.credentials` as subprocesses, each with `--json`, then prints one markdown table
built from their JSON (`table`, a pure function). One Kafka broker and one MongoDB-wire
server are started with the test harness for all of them (or taken from
`KAFKA_BOOTSTRAP_SERVERS` and `MONGODB_URI` when both are set), so the run pays for the
servers' start-up once. Each benchmark's output goes to `DIR/NAME.log`, its results to
`DIR/NAME.json`. `--quick` shortens every phase: a smoke run whose figures mean little.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ("ingress", "credentials", "oauth", "dispatcher")


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str
    full: tuple[str, ...]  # the figures docs/performance.md reports
    quick: tuple[str, ...]  # a smoke run: every phase, short


BENCHMARKS = (
    Benchmark("ingress", "benchmarks.ingress", (), ("--duration", "2")),
    Benchmark(
        "end_to_end",
        "benchmarks.end_to_end",
        ("--rate", "20", "--duration", "30"),
        ("--rate", "10", "--duration", "5"),
    ),
    Benchmark(
        "dispatcher",
        "benchmarks.dispatcher",
        (),
        ("--events", "300", "--latency-s", "3", "--budget-s", "60"),
    ),
    Benchmark("credentials", "benchmarks.credentials", (), ("--duration", "1")),
)


# --------------------------------------------------------------------------- the table


def _ms(summary: Mapping[str, Any] | None, *keys: str) -> str:
    if summary is None:
        return "n/a"
    return " / ".join(f"{summary[key]:.1f}" for key in keys) + " ms"


def _ingress(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    ingress, bare = r["ingress"], r["bare"]
    ratio = ingress["max"]["rps"] / bare["max"]["rps"]
    return [
        ("requests/s at the maximum rate (closed loop)", f"{ingress['max']['rps']:,.0f}"),
        ("bare ASGI endpoint, same run", f"{bare['max']['rps']:,.0f} req/s"),
        ("ingress / bare", f"{ratio:.0%}"),
        ("p50 / p99 at half its maximum rate", _ms(ingress["half"], "p50_ms", "p99_ms")),
    ]


def _end_to_end(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    load = (
        f"{r['rate_per_s']:g}/s for {r['duration_s']:g} s; {r['completed']} of {r['sent']} arrived"
    )
    return [
        (
            f"webhook POST → execution request, p50 / p99 ({load})",
            _ms(r["latency_ms"], "p50", "p99"),
        ),
        ("ingress's answer to the POST, p50 / p99", _ms(r["ingress_answer_ms"], "p50", "p99")),
        # Latency counts from the send: a starved generator would hide delay here.
        ("POSTs sent late against the schedule, p99 / max", _ms(r["send_lag_ms"], "p99", "max")),
    ]


def _dispatcher(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    throughput, latency = r["throughput"], r["latency"]
    return [
        (
            f"events/s, backlog of {throughput['events']:,} (3 requests each)",
            f"{throughput['events_per_s']:,.1f}",
        ),
        (
            f"event → its first request, p50 / p99 at {latency['rate_per_s']:g}/s",
            _ms(latency["first_request_ms"], "p50", "p99"),
        ),
    ]


def _credentials(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    def reads(row: Mapping[str, Any]) -> str:
        return f"{row['per_s']:,.0f} (p99 {row['p99_ms']:.1f} ms)"

    rows = [
        (f"cached reads/s, internal route ({r['store']})", reads(r["route_reads"])),
        (f"cached reads/s, read path ({r['store']})", reads(r["path_reads"])),
    ]
    for storm in r["storms"]:
        calls = storm["token_calls"]
        rows.append(
            (
                f"refresh storm: {storm['requests']:,} concurrent reads, 2 replicas",
                f"{calls} token call{'' if calls == 1 else 's'}, {storm['seconds']:.2f} s",
            )
        )
    return rows


def _memory(r: Mapping[str, Any]) -> list[tuple[str, str]]:
    memory = r["memory_mib"]
    return [
        (f"{name}: peak resident memory (VmHWM)", f"{memory[name]['peak']:.0f} MiB")
        for name in SERVICES
        if name in memory
    ]


_SECTIONS = (
    ("ingress", "ingress", _ingress),
    ("end to end", "end_to_end", _end_to_end),
    ("dispatcher", "dispatcher", _dispatcher),
    ("credentials", "credentials", _credentials),
    ("memory, during end to end", "end_to_end", _memory),
)


def table(results: Mapping[str, Mapping[str, Any] | None]) -> str:
    """The markdown table of every benchmark's headline figures, from their JSON results.

    A benchmark that is missing or `None` (it failed) gets one row saying so, so a broken
    benchmark cannot pass for a finished one.
    """
    lines = ["| benchmark | figure | value |", "| --- | --- | ---: |"]
    for label, name, rows_of in _SECTIONS:
        result = results.get(name)
        rows = [("did not finish: see its log", "n/a")] if result is None else rows_of(result)
        lines += [f"| {label} | {figure} | {value} |" for figure, value in rows]
    return "\n".join(lines)


# --------------------------------------------------------------------------- running


def load_average() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def run_one(
    benchmark: Benchmark, args: list[str], env: dict[str, str], out: Path
) -> Mapping[str, Any] | None:
    result_path, log_path = out / f"{benchmark.name}.json", out / f"{benchmark.name}.log"
    result_path.unlink(missing_ok=True)
    started = time.monotonic()
    with log_path.open("wb") as log:
        code = subprocess.run(
            [sys.executable, "-m", benchmark.module, *args, "--json", str(result_path)],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,
        ).returncode
    took = time.monotonic() - started
    if code != 0 or not result_path.exists():
        print(
            f"{benchmark.name}: FAILED (exit {code}) after {took:.0f} s, see {log_path}",
            file=sys.stderr,
        )
        return None
    print(f"{benchmark.name}: {took:.0f} s", file=sys.stderr)
    loaded: Mapping[str, Any] = json.loads(result_path.read_text())
    return loaded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="Short phases: a smoke run.")
    parser.add_argument(
        "--out", type=Path, help="Where the logs and JSON go (default: a temp dir)."
    )
    parser.add_argument("--credentials-store", choices=["sqlite", "mongo"], default="sqlite")
    args = parser.parse_args()
    # Here, not at the top: `table` stays importable without Kafka's and the harness's modules.
    from benchmarks.end_to_end import infrastructure

    out = args.out or Path(tempfile.mkdtemp(prefix="bench-report-"))
    out.mkdir(parents=True, exist_ok=True)
    started, date, load_before = time.monotonic(), datetime.now(UTC), load_average()
    print(f"logs and results in {out}", file=sys.stderr)

    results: dict[str, Mapping[str, Any] | None] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-servers-") as servers,
        infrastructure(Path(servers)) as infra,
    ):
        # Every benchmark on these servers: their start-up is paid once.
        env = {"KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap, "MONGODB_URI": infra.mongodb_uri}
        for benchmark in BENCHMARKS:
            extra = ["--store", args.credentials_store] if benchmark.name == "credentials" else []
            phases = benchmark.quick if args.quick else benchmark.full
            results[benchmark.name] = run_one(benchmark, [*phases, *extra], env, out)

    minutes = (time.monotonic() - started) / 60
    print(
        f"{date:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores, "
        f"load average {load_before} at the start, {load_average()} at the end, "
        f"{minutes:.1f} min{', --quick' if args.quick else ''}\n"
    )
    print(table(results))
    if any(result is None for result in results.values()):
        sys.exit(1)


if __name__ == "__main__":
    main()
