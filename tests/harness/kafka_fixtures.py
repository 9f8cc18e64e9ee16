"""Pytest plugin: a real Apache Kafka broker for the whole test session.

Fixtures:

- ``kafka_server``: a started ``KafkaServer`` (``tests/harness/kafka.py``), stopped at the end
  of the session. Fault tests may ``stop()``/``kill()``/``start()``/``restart()`` it; the port
  and data survive, so clients reconnect to the same address.
- ``kafka_bootstrap``: its bootstrap string, ``127.0.0.1:<port>``.
- ``kafka_fault_server``: the same broker for tests that stop, kill, pause or restart it;
  skipped with an external broker, and brought back up after the test whatever happened.

Setting ``KAFKA_BOOTSTRAP_SERVERS`` makes both use that external broker instead; the broker
is then not ours to stop, so restart-dependent tests are skipped (everything else runs).
A broker that cannot be started is an error, never a skip: the integration tests must not
pass silently without Kafka.

At the end of the run the terminal summary names the broker the tests ran against.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final, Protocol

import pytest

from tests.harness.kafka import (
    KafkaServer,
    KafkaServerError,
    create_topic,
    unique_name,
)

__all__ = [
    "ExternalKafka",
    "KafkaBrokerHandle",
    "create_topic",
    "kafka_bootstrap",
    "kafka_fault_server",
    "kafka_server",
    "unique_name",
]

EXTERNAL_ENV: Final = "KAFKA_BOOTSTRAP_SERVERS"
_USED_BROKER: Final = pytest.StashKey[str]()


class KafkaBrokerHandle(Protocol):
    """What tests may rely on, whether the broker is ours or external."""

    @property
    def version(self) -> str: ...

    @property
    def bootstrap_servers(self) -> str: ...

    @property
    def description(self) -> str: ...

    def start(self) -> None: ...

    def stop(self, grace: float = ...) -> None: ...

    def kill(self) -> None: ...

    def restart(self, *, down_for: float = ..., graceful: bool = ...) -> None: ...

    async def astart(self) -> None: ...

    async def astop(self, grace: float = ...) -> None: ...

    async def arestart(self, *, down_for: float = ..., graceful: bool = ...) -> None: ...


@dataclass(frozen=True)
class ExternalKafka:
    """A broker given by ``KAFKA_BOOTSTRAP_SERVERS``: usable, but not ours to stop."""

    bootstrap_servers: str
    version: str = "external"

    @property
    def description(self) -> str:
        return f"external Kafka broker at {self.bootstrap_servers} (${EXTERNAL_ENV})"

    def _cannot(self, action: str) -> None:
        pytest.skip(f"cannot {action} the {self.description}: test needs the harness broker")

    def start(self) -> None:
        """Nothing to do: the external broker is assumed to be running."""

    def stop(self, grace: float = 0.0) -> None:
        self._cannot("stop")

    def kill(self) -> None:
        self._cannot("kill")

    def restart(self, *, down_for: float = 0.0, graceful: bool = True) -> None:
        self._cannot("restart")

    async def astart(self) -> None:
        """Nothing to do: the external broker is assumed to be running."""

    async def astop(self, grace: float = 0.0) -> None:
        self._cannot("stop")

    async def arestart(self, *, down_for: float = 0.0, graceful: bool = True) -> None:
        self._cannot("restart")


@pytest.fixture(scope="session")
def kafka_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[KafkaBrokerHandle]:
    """The session's Kafka broker, started on first use (fails the test if it cannot start)."""
    external = os.environ.get(EXTERNAL_ENV, "").strip()
    if external:
        broker = ExternalKafka(external)
        request.config.stash[_USED_BROKER] = broker.description
        yield broker
        return
    server = KafkaServer(tmp_path_factory.mktemp("kafka"))
    failure: str | None = None
    try:
        server.start()
    except KafkaServerError as exc:
        failure = str(exc)
    if failure is not None:
        # fail, never skip: integration tests must not pass without a broker
        pytest.fail(f"could not start the test Kafka broker: {failure}", pytrace=False)
    request.config.stash[_USED_BROKER] = (
        f"{server.description} (started in {server.startup_seconds or 0:.1f} s, "
        f"log {server.log_path})"
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kafka_fault_server(kafka_server: KafkaBrokerHandle) -> Iterator[KafkaServer]:
    """The harness broker, for fault tests; running again (same address) after the test."""
    if not isinstance(kafka_server, KafkaServer):
        pytest.skip(f"fault test needs the harness broker, not the {kafka_server.description}")
    try:
        yield kafka_server
    finally:
        if kafka_server.is_running:
            kafka_server.resume()  # harmless unless the test paused it
        else:
            kafka_server.start()


@pytest.fixture(scope="session")
def kafka_bootstrap(kafka_server: KafkaBrokerHandle) -> str:
    """Bootstrap servers of the session's Kafka broker."""
    return kafka_server.bootstrap_servers


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter,
    exitstatus: int,
    config: pytest.Config,
) -> None:
    used = config.stash.get(_USED_BROKER, None)
    if used is not None:
        terminalreporter.write_line(f"real Kafka broker: {used}")
