"""Pytest plugin: a real MongoDB-wire-protocol server for the whole test session.

Fixtures:

- ``mongo_server``: a started ``MongoWireServer`` (FerretDB, ``tests/harness/mongo.py``),
  stopped at the end of the session.
- ``mongodb_uri``: its connection string, ``mongodb://127.0.0.1:<port>/``.
- ``mongo_fault_server``: the same server for tests that stop, kill or restart it; skipped
  with an external server, and running again (same address, same data) after the test.

Setting ``MONGODB_URI`` makes them use that server instead (for example a real MongoDB
replica set); it is then not ours to stop, so only the fault tests are skipped.
A server that cannot be started is an error, never a skip: the integration tests must not
pass silently without a database.

At the end of the run the terminal summary names the server the tests ran against.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final, Protocol

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError
from pymongo.uri_parser import parse_uri

from tests.harness.mongo import MongoWireServer, MongoWireServerError

__all__ = [
    "ExternalMongo",
    "MongoWire",
    "mongo_fault_server",
    "mongo_server",
    "mongodb_uri",
]

EXTERNAL_ENV: Final = "MONGODB_URI"
_USED_SERVER: Final = pytest.StashKey[str]()


class MongoWire(Protocol):
    """What tests may rely on, whether the server is ours or external."""

    @property
    def uri(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def is_ferretdb(self) -> bool:
        """True for FerretDB: lets tests pin its known gaps (docs/testing-servers.md)."""
        ...

    @property
    def description(self) -> str: ...


@dataclass(frozen=True)
class ExternalMongo:
    """A server given by ``MONGODB_URI``: usable, but not ours to stop."""

    uri: str
    version: str
    is_ferretdb: bool
    hosts: str

    @property
    def description(self) -> str:
        return f"{self.version} at {self.hosts} (${EXTERNAL_ENV})"

    @classmethod
    def probe(cls, uri: str) -> ExternalMongo:
        """Connect once and read the server's version (raises if it cannot)."""
        hosts = ",".join(f"{host}:{port}" for host, port in parse_uri(uri)["nodelist"])
        client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=10_000)
        try:
            info = client.admin.command("buildInfo")
        finally:
            client.close()
        if "ferretdbVersion" in info:
            return cls(uri, f"FerretDB {info['ferretdbVersion']}", True, hosts)
        return cls(uri, f"MongoDB {info.get('version', '?')}", False, hosts)


@pytest.fixture(scope="session")
def mongo_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[MongoWire]:
    """The session's MongoDB-wire server, started on first use (fails if it cannot start)."""
    external = os.environ.get(EXTERNAL_ENV, "").strip()
    if external:
        try:
            server: MongoWire = ExternalMongo.probe(external)
        except (PyMongoError, ValueError) as exc:
            pytest.fail(f"cannot reach ${EXTERNAL_ENV}: {exc}", pytrace=False)
        request.config.stash[_USED_SERVER] = server.description
        yield server
        return
    harness = MongoWireServer(tmp_path_factory.mktemp("mongo"))
    try:
        harness.start()
    except MongoWireServerError as exc:
        # pytest.fail, not skip: integration tests must not pass without a database
        pytest.fail(f"could not start the test MongoDB-wire server: {exc}", pytrace=False)
    request.config.stash[_USED_SERVER] = (
        f"{harness.description} (started in {harness.startup_seconds or 0:.2f} s, "
        f"log {harness.log_path})"
    )
    try:
        yield harness
    finally:
        harness.stop()


@pytest.fixture
def mongo_fault_server(mongo_server: MongoWire) -> Iterator[MongoWireServer]:
    """The harness server, for fault tests; running again (same address) after the test."""
    if not isinstance(mongo_server, MongoWireServer):
        pytest.skip(f"fault test needs the harness server, not the {mongo_server.description}")
    try:
        yield mongo_server
    finally:
        if not mongo_server.is_running:
            mongo_server.start()


@pytest.fixture(scope="session")
def mongodb_uri(mongo_server: MongoWire) -> str:
    """Connection string of the session's MongoDB-wire server."""
    return mongo_server.uri


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter,
    exitstatus: int,
    config: pytest.Config,
) -> None:
    used = config.stash.get(_USED_SERVER, None)
    if used is not None:
        terminalreporter.write_line(f"real MongoDB-wire server: {used}")
