"""End-to-end fault tests: the four services as separate `integrations serve` processes
(tests/harness/local_stack.py) on the session's real Kafka broker and MongoDB-wire server.

Every test gets the `leak_scan` (autouse): when the test is over and its services have
stopped, each secret the test used is searched for in the services' logs, in every response
the test received and in every Kafka record produced meanwhile; any hit fails the test.
"""

from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Final

import pytest

from integrations.contracts import TOPICS
from tests.e2e.leaks import LeakScan, end_offsets, records_since
from tests.e2e.stack import StackFactory
from tests.unit.dispatcher.kafka_kit import provision_topics

_SCANNED: Final = pytest.StashKey[Counter[str]]()


@pytest.fixture(autouse=True)
async def leak_scan(
    kafka_bootstrap: str, request: pytest.FixtureRequest
) -> AsyncIterator[LeakScan]:
    """The scan of this test: secrets go in as the test makes them; the verdict comes after
    the test's services have stopped (the `stacks` fixture is torn down first)."""
    scan = LeakScan()
    await provision_topics(kafka_bootstrap)
    start = await end_offsets(kafka_bootstrap, [topic.name for topic in TOPICS])
    yield scan
    records = await records_since(kafka_bootstrap, start)
    found = scan.findings(records)
    assert not found, "secrets leaked:\n" + "\n".join(found[:20])
    if scan.log_paths:  # a stack ran: then a scan of nothing would prove nothing
        coverage = scan.coverage(records)
        assert all(coverage.values()), f"the leak scan saw nothing of some kind: {coverage}"
        request.config.stash.setdefault(_SCANNED, Counter()).update({**coverage, "tests": 1})


@pytest.fixture
async def stacks(
    leak_scan: LeakScan, kafka_bootstrap: str, mongodb_uri: str, tmp_path: Path
) -> AsyncIterator[StackFactory]:
    """Starts stacks for the test; stops them all when it ends."""
    infra_env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": mongodb_uri}
    factory = StackFactory(kafka_bootstrap, infra_env, leak_scan, tmp_path / "logs")
    try:
        yield factory
    finally:
        await factory.close()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    scanned = config.stash.get(_SCANNED, None)
    if scanned:
        terminalreporter.write_line(
            "e2e leak scan, no secret found: "
            + ", ".join(f"{count} {what}" for what, count in scanned.items())
        )
