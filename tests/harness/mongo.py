"""A real MongoDB-wire-protocol server for tests: FerretDB v1 with its SQLite backend, no Docker.

FerretDB is embedded in a tiny Go program (``tests/harness/ferretdb/main.go``) that is built
once with the local ``go`` toolchain from the Go module proxy into
``$XDG_CACHE_HOME/integrations-test/ferretdb-<version>/`` (``~/.cache`` by default). The
binary's name carries a hash of its sources (``go.mod``, ``go.sum``, ``main.go``) and build
flags, so a change rebuilds it and an unchanged tree reuses it. The server then runs as a
plain process on a free loopback port and starts in well under a second.

    server = MongoWireServer(tmp_path / "mongo")
    server.start()
    ...  # clients use server.uri
    server.restart()  # same port, same data: clients reconnect to the same address
    server.stop()

The Go program puts a small proxy in front of FerretDB that runs one command at a time and
reports unique-index violations with MongoDB's code 11000: without it, FerretDB v1 loses
concurrent updates of one document. See ``docs/testing-servers.md`` for what FerretDB does
not do like MongoDB.

Blocking methods (``start``, ``stop``, ``kill``, ``restart``) may be called from async tests,
but they block the caller's event loop while they run: use ``astart``/``astop``/``akill``/
``arestart`` when other coroutines of the test must keep running meanwhile.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Final

from pymongo import MongoClient
from pymongo.errors import PyMongoError

__all__ = [
    "FERRETDB_VERSION",
    "MongoWireServer",
    "MongoWireServerError",
    "build_ferretdb",
    "cache_dir",
]

FERRETDB_VERSION: Final = "1.24.2"
"""FerretDB release embedded by the harness (keep in sync with ``ferretdb/go.mod``)."""

SOURCE_DIR: Final = Path(__file__).with_name("ferretdb")
SOURCE_FILES: Final = ("go.mod", "go.sum", "main.go")
BUILD_TAGS: Final = "ferretdb_no_postgresql"
"""Only the SQLite backend is needed: leaving PostgreSQL out makes the build smaller."""

BUILD_TIMEOUT_S: Final = 900.0
BUILD_ATTEMPTS: Final = 2
START_TIMEOUT_S: Final = 30.0
STOP_TIMEOUT_S: Final = 10.0
_LOG_TAIL_BYTES: Final = 4000
_READY_PREFIX: Final = "ready: "
_RUN_MARKER: Final = "\n=== "

_log = logging.getLogger(__name__)

_LIVE_SERVERS: set[subprocess.Popen[bytes]] = set()
"""Server processes still running: killed at interpreter exit if teardown never ran."""


@atexit.register
def _kill_leftover_servers() -> None:
    for process in list(_LIVE_SERVERS):
        with contextlib.suppress(OSError, subprocess.TimeoutExpired):
            process.kill()
            process.wait(10)
    _LIVE_SERVERS.clear()


class MongoWireServerError(RuntimeError):
    """The test server could not be built or started (the message has the log's tail)."""


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/integrations-test`` (``~/.cache/integrations-test`` by default)."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip()
    root = Path(base) if base else Path.home() / ".cache"
    return root / "integrations-test"


def _source_hash() -> str:
    digest = hashlib.sha256()
    for name in SOURCE_FILES:
        digest.update(name.encode() + b"\0")
        digest.update((SOURCE_DIR / name).read_bytes())
        digest.update(b"\0")
    digest.update(f"tags={BUILD_TAGS};trimpath".encode())
    return digest.hexdigest()[:16]


def _tail(path: Path, limit: int = _LOG_TAIL_BYTES) -> str:
    try:
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - limit))
            text = fh.read().decode("utf-8", "replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return ("..." if size > limit else "") + text


def _go_binary() -> str:
    found = shutil.which("go")
    if found:
        return found
    for candidate in (Path("/usr/local/go/bin/go"), Path.home() / "go" / "bin" / "go"):
        if candidate.is_file():
            return str(candidate)
    raise MongoWireServerError(
        "the Go toolchain (`go`) is needed to build the FerretDB test server; install Go "
        "or point the tests at a MongoDB server with MONGODB_URI"
    )


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (parallel test runs building at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def build_ferretdb() -> Path:
    """The harness binary, built now unless a build of the same sources is cached."""
    out_dir = cache_dir() / f"ferretdb-{FERRETDB_VERSION}"
    binary = out_dir / f"ferretdb-harness-{_source_hash()}"
    if binary.is_file():
        return binary
    with _file_lock(out_dir / "build.lock"):
        if binary.is_file():  # built by another process meanwhile
            return binary
        go = _go_binary()
        env = dict(os.environ)
        env["GOFLAGS"] = "-mod=mod -buildvcs=false"
        env.setdefault("GOCACHE", str(cache_dir() / "go-build"))
        if "HOME" not in env and "GOPATH" not in env:
            env.setdefault("GOMODCACHE", str(cache_dir() / "go-mod"))
        build_log = out_dir / "build.log"
        partial = binary.with_name(binary.name + ".partial")
        cmd = [
            go, "build", "-trimpath", "-tags", BUILD_TAGS, "-o", str(partial), ".",
        ]  # fmt: skip
        _log.info("building the FerretDB test server: %s", " ".join(cmd))
        started = time.monotonic()
        build_log.write_bytes(b"")
        for attempt in range(1, BUILD_ATTEMPTS + 1):
            returncode = _run_build(cmd, env, build_log, attempt)
            if returncode == 0 and partial.is_file():
                break
            if attempt < BUILD_ATTEMPTS:
                # module downloads from the proxy sometimes fail for a moment: retry once
                _log.warning("building FerretDB failed (exit %s); retrying", returncode)
                time.sleep(2)
                continue
            raise MongoWireServerError(
                f"building FerretDB failed (exit {returncode}, {attempt} attempts); "
                f"log {build_log}:\n{_tail(build_log)}"
            )
        partial.replace(binary)
        _log.info("built %s in %.1f s", binary, time.monotonic() - started)
        return binary


def _run_build(cmd: list[str], env: dict[str, str], build_log: Path, attempt: int) -> int:
    with build_log.open("ab") as log:
        log.write(f"=== attempt {attempt}: $ {' '.join(cmd)}  (in {SOURCE_DIR})\n".encode())
        log.flush()
        try:
            result = subprocess.run(
                cmd,
                cwd=SOURCE_DIR,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                timeout=BUILD_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise MongoWireServerError(
                f"building FerretDB took over {BUILD_TIMEOUT_S:.0f} s; log {build_log}:\n"
                f"{_tail(build_log)}"
            ) from None
    return result.returncode


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class MongoWireServer:
    """One FerretDB process on ``127.0.0.1``; its port and data survive ``restart()``."""

    is_ferretdb: Final = True

    def __init__(self, base_dir: Path, *, port: int | None = None) -> None:
        self.base_dir = Path(base_dir)
        self.data_dir = self.base_dir / "data"
        self.log_path = self.base_dir / "ferretdb.log"
        self.host: Final = "127.0.0.1"
        self._port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._log_file: IO[bytes] | None = None
        self.version = f"FerretDB {FERRETDB_VERSION} (SQLite backend)"
        self.startup_seconds: float | None = None
        """How long the last ``start()`` took, build included."""
        self.build_seconds: float | None = None
        """How long the last ``start()`` spent finding or building the binary."""

    # -- addresses -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise MongoWireServerError("the server has no port before its first start()")
        return self._port

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def uri(self) -> str:
        """``mongodb://127.0.0.1:<port>/``, stable across restarts."""
        return f"mongodb://{self.address}/"

    @property
    def description(self) -> str:
        return f"{self.version} at {self.address}"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.is_running and self._process else None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, timeout: float = START_TIMEOUT_S) -> None:
        """Build if needed, start, and wait until a client's ``ping`` succeeds."""
        if self.is_running:
            return
        started = time.monotonic()
        binary = build_ferretdb()
        self.build_seconds = time.monotonic() - started
        self.data_dir.mkdir(parents=True, exist_ok=True)
        fixed_port = self._port is not None
        attempts = 1 if fixed_port else 3
        for attempt in range(1, attempts + 1):
            if not fixed_port:
                self._port = _free_port()
            self._spawn(binary)
            try:
                self._wait_ready(started + self.build_seconds + timeout)
            except MongoWireServerError:
                self._reap()
                # a free port picked by us can be taken before the server binds it: retry
                this_run = _tail(self.log_path).rsplit(_RUN_MARKER, 1)[-1]
                if attempt < attempts and "address already in use" in this_run:
                    _log.warning("port %s was taken meanwhile; trying another", self._port)
                    continue
                raise
            break
        self.startup_seconds = time.monotonic() - started
        _log.info("%s ready in %.2f s", self.description, self.startup_seconds)

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """SIGTERM and wait (SIGKILL after ``timeout``); a stopped server stays stopped."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                _log.warning("%s ignored SIGTERM for %.0f s: killing it", self.description, timeout)
                process.kill()
                process.wait(timeout)
        self._reap()

    def kill(self) -> None:
        """SIGKILL, as a crash would; data written so far survives (SQLite WAL)."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
            process.wait(STOP_TIMEOUT_S)
        self._reap()

    def restart(self, *, down_for: float = 0.0, graceful: bool = True) -> None:
        """Stop (or kill), stay down ``down_for`` seconds, start on the same port and data."""
        if graceful:
            self.stop()
        else:
            self.kill()
        if down_for > 0:
            time.sleep(down_for)
        self.start()

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self) -> None:
        await asyncio.to_thread(self.stop)

    async def akill(self) -> None:
        await asyncio.to_thread(self.kill)

    async def arestart(self, *, down_for: float = 0.0, graceful: bool = True) -> None:
        if graceful:
            await self.astop()
        else:
            await self.akill()
        if down_for > 0:
            await asyncio.sleep(down_for)
        await self.astart()

    # -- internals -------------------------------------------------------------------------

    def _spawn(self, binary: Path) -> None:
        self.base_dir.mkdir(parents=True, exist_ok=True)
        socket_path = self.base_dir / "ferretdb.sock"
        cmd = [
            str(binary),
            "-listen-addr", self.address,
            "-data-dir", str(self.data_dir),
            "-log-level", "warn",
        ]  # fmt: skip
        if len(str(socket_path)) < 100:  # Unix socket path limit; else a temporary dir
            cmd += ["-unix-socket", str(socket_path)]
        self._log_file = self.log_path.open("ab")
        header = f"{_RUN_MARKER}{time.strftime('%H:%M:%S')} $ {' '.join(cmd)}\n"
        self._log_file.write(header.encode())
        self._log_file.flush()
        self._process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C of pytest must not stop it before teardown
        )
        _LIVE_SERVERS.add(self._process)

    def _wait_ready(self, deadline: float) -> None:
        last_error = "no attempt"
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                code = None if process is None else process.returncode
                raise MongoWireServerError(
                    f"FerretDB exited (code {code}) before it was ready; log {self.log_path}:\n"
                    f"{_tail(self.log_path)}"
                )
            if time.monotonic() >= deadline:
                raise MongoWireServerError(
                    f"FerretDB at {self.address} not ready in time ({last_error}); "
                    f"log {self.log_path}:\n{_tail(self.log_path)}"
                )
            try:
                # cheap first: a driver's server selection would wait out its whole timeout
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    pass
            except OSError as exc:
                last_error = f"connect: {exc}"
                time.sleep(0.02)
                continue
            try:
                self._ping()
            except PyMongoError as exc:
                last_error = f"{type(exc).__name__}: {exc}"
                time.sleep(0.05)
                continue
            # our process, not another one on that port, must have said it is listening
            if self._read_version():
                return
            last_error = "ping answered, but no ready line from our process yet"
            time.sleep(0.02)

    def _ping(self) -> None:
        client: MongoClient[dict[str, object]] = MongoClient(
            self.uri,
            serverSelectionTimeoutMS=1000,
            connectTimeoutMS=1000,
            socketTimeoutMS=2000,
            retryWrites=False,
            retryReads=False,
        )
        try:
            client.admin.command("ping")
        finally:
            client.close()

    def _read_version(self) -> bool:
        """Take the version from this run's "ready: FerretDB vX.Y.Z (...)" line, if there."""
        this_run = _tail(self.log_path).rsplit(_RUN_MARKER, 1)[-1]
        for line in this_run.splitlines():
            if line.startswith(_READY_PREFIX + "FerretDB v"):
                number = line[len(_READY_PREFIX + "FerretDB v") :].split(" ", 1)[0]
                self.version = f"FerretDB {number} (SQLite backend)"
                return True
        return False

    def _reap(self) -> None:
        process = self._process
        if process is not None:
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
                process.wait(STOP_TIMEOUT_S)
            _LIVE_SERVERS.discard(process)
        self._process = None
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None
