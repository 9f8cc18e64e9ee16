"""`make bench`'s table: the benchmarks' JSON results in, one markdown table out."""

from typing import Any

import pytest

from benchmarks.report import table

pytestmark = pytest.mark.unit


def phase(rps: float, p50: float, p99: float) -> dict[str, float]:
    return {"rps": rps, "p50_ms": p50, "p95_ms": p99, "p99_ms": p99, "failures": 0}


def results() -> dict[str, dict[str, Any] | None]:
    """As the four benchmarks write them with --json (fields the table does not use omitted)."""
    latency = {"p50": 20.04, "p90": 30.0, "p99": 111.44, "max": 120.0, "mean": 25.0}
    return {
        "ingress": {
            "bare": {"max": phase(4224.0, 7.1, 12.1), "half": phase(2112.0, 0.8, 2.4)},
            "ingress": {"max": phase(604.0, 45.9, 147.6), "half": phase(302.0, 3.2, 8.5)},
        },
        "end_to_end": {
            "rate_per_s": 20.0,
            "duration_s": 30.0,
            "sent": 600,
            "completed": 598,
            "latency_ms": latency,
            "ingress_answer_ms": {**latency, "p50": 9.7, "p99": 98.7},
            "send_lag_ms": {**latency, "p99": 1.34, "max": 4.0},
            "memory_mib": {
                "ingress": {"peak": 103.6, "end": 101.0},
                "credentials": {"peak": 105.5, "end": 105.5},
                "oauth": {"peak": 99.4, "end": 99.4},
                "dispatcher": {"peak": 112.5, "end": 110.0},
            },
        },
        "dispatcher": {
            "throughput": {"events": 1500, "events_per_s": 61.34},
            "latency": {"rate_per_s": 31.0, "first_request_ms": latency},
        },
        "credentials": {
            "store": "sqlite",
            "route_reads": {"per_s": 452.4, "p99_ms": 88.0},
            "path_reads": {"per_s": 2730.2, "p99_ms": 26.1},
            "storms": [
                {"requests": 200, "seconds": 0.754, "token_calls": 1},
                {"requests": 1000, "seconds": 2.6, "token_calls": 2},
            ],
        },
    }


def rows(markdown: str) -> dict[tuple[str, str], str]:
    """(benchmark, figure) -> value; every line must be a three-cell markdown row."""
    lines = markdown.splitlines()
    assert lines[:2] == ["| benchmark | figure | value |", "| --- | --- | ---: |"]
    cells = [line.split(" | ") for line in lines[2:]]
    assert all(len(c) == 3 and c[0].startswith("| ") and c[2].endswith(" |") for c in cells)
    return {(c[0][2:], c[1]): c[2][:-2] for c in cells}


def test_every_headline_figure_is_in_the_table() -> None:
    got = rows(table(results()))

    assert got[("ingress", "requests/s at the maximum rate (closed loop)")] == "604"
    assert got[("ingress", "bare ASGI endpoint, same run")] == "4,224 req/s"
    assert got[("ingress", "ingress / bare")] == "14%"
    assert got[("ingress", "p50 / p99 at half its maximum rate")] == "3.2 / 8.5 ms"
    e2e = "webhook POST → execution request, p50 / p99 (20/s for 30 s; 598 of 600 arrived)"
    assert got[("end to end", e2e)] == "20.0 / 111.4 ms"
    assert got[("end to end", "ingress's answer to the POST, p50 / p99")] == "9.7 / 98.7 ms"
    late = ("end to end", "POSTs sent late against the schedule, p99 / max")
    assert got[late] == "1.3 / 4.0 ms"
    assert got[("dispatcher", "events/s, backlog of 1,500 (3 requests each)")] == "61.3"
    assert got[("credentials", "cached reads/s, internal route (sqlite)")] == "452 (p99 88.0 ms)"
    assert got[("credentials", "cached reads/s, read path (sqlite)")] == "2,730 (p99 26.1 ms)"
    storm = "refresh storm: {} concurrent reads, 2 replicas"
    assert got[("credentials", storm.format(200))] == "1 token call, 0.75 s"
    assert got[("credentials", storm.format("1,000"))] == "2 token calls, 2.60 s"
    memory = {
        figure.split(":")[0]: value
        for (section, figure), value in got.items()
        if section == "memory, during end to end"
    }
    assert memory == {
        "ingress": "104 MiB",
        "credentials": "106 MiB",
        "oauth": "99 MiB",
        "dispatcher": "112 MiB",
    }


def test_a_failed_benchmark_is_named_not_left_out() -> None:
    failed = results() | {"end_to_end": None}
    del failed["credentials"]

    got = rows(table(failed))

    not_run = ("did not finish: see its log", "n/a")
    for section in ("end to end", "credentials", "memory, during end to end"):
        assert [(f, v) for (s, f), v in got.items() if s == section] == [not_run]
    assert got[("ingress", "ingress / bare")] == "14%"


def test_a_skipped_latency_phase_reads_n_a() -> None:
    skipped = results()
    dispatcher = skipped["dispatcher"]
    assert dispatcher is not None
    dispatcher["latency"]["first_request_ms"] = None  # the backlog did not drain in time

    got = rows(table(skipped))

    assert got[("dispatcher", "event → its first request, p50 / p99 at 31/s")] == "n/a"
