"""An open-loop HTTP/1.1 load generator: requests at a fixed rate, latency from the schedule.

Run as a process of its own (`python -m benchmarks.ingress_loadgen ...`) so it never shares an event
loop or a core's time slice with the server it measures. Latency is measured from when a
request was *due*, not when it was sent, so a server that falls behind shows it in the tail
(no coordinated omission). It prints one JSON object on stdout.

Only what the benchmark needs: keep-alive connections to one host, `Content-Length` responses.
"""

import argparse
import asyncio
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

_MAX_CONNECTIONS = 512


@dataclass
class Results:
    latencies_s: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    failures: int = 0


async def _read_response(reader: asyncio.StreamReader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    if length:
        await reader.readexactly(length)
    return status


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer


async def run(
    host: str, port: int, requests: list[bytes], rate: float, duration_s: float
) -> dict[str, object]:
    results = Results()
    idle: list[_Connection] = []
    opened = 0
    in_flight: set[asyncio.Task[None]] = set()

    async def connection() -> _Connection:
        nonlocal opened
        if idle:
            return idle.pop()
        opened += 1
        reader, writer = await asyncio.open_connection(host, port)
        return _Connection(reader, writer)

    async def one(request: bytes, due: float) -> None:
        try:
            conn = await connection()
            conn.writer.write(request)
            status = await _read_response(conn.reader)
        except (OSError, asyncio.IncompleteReadError, ValueError):
            results.failures += 1
            return
        results.latencies_s.append(time.perf_counter() - due)
        results.statuses[status] = results.statuses.get(status, 0) + 1
        idle.append(conn)

    total = int(rate * duration_s)
    started = time.perf_counter()
    for number in range(total):
        due = started + number / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(in_flight) >= _MAX_CONNECTIONS:
            results.failures += 1  # the server is too far behind: count it, do not queue
            continue
        task = asyncio.create_task(one(requests[number % len(requests)], due))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
    if in_flight:
        await asyncio.wait(in_flight, timeout=30)
    elapsed = time.perf_counter() - started
    for conn in idle:
        conn.writer.close()
    latencies = sorted(results.latencies_s)
    return {
        "target_rate": rate,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "failures": results.failures,
        "statuses": {str(status): n for status, n in sorted(results.statuses.items())},
        "connections": opened,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p95_ms": _percentile(latencies, 0.95) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
    }


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--rate", type=float, required=True, help="requests per second")
    parser.add_argument("--duration", type=float, required=True, help="seconds")
    parser.add_argument(
        "--requests", type=Path, required=True, help="JSON list of raw requests (latin-1 text)"
    )
    args = parser.parse_args()
    raw = [text.encode("latin-1") for text in json.loads(args.requests.read_text())]
    summary = asyncio.run(run(args.host, args.port, raw, args.rate, args.duration))
    json.dump(summary, sys.stdout)


if __name__ == "__main__":
    main()
