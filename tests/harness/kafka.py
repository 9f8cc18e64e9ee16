"""A real Apache Kafka broker (KRaft mode, single node) for tests, started from Maven jars.

No Docker: the broker's jars are fetched once from Maven Central with ``mvn`` (see
``tests/harness/kafka/pom.xml``) into ``$XDG_CACHE_HOME/integrations-test/kafka-<version>/libs``
(``~/.cache`` by default) and the broker runs as a plain ``java`` process on free loopback
ports. Later runs reuse the cached jars and start in a few seconds.

    server = KafkaServer(tmp_path / "kafka")
    server.start()
    ...  # clients use server.bootstrap_servers
    server.restart()  # same ports, same data: clients reconnect to the same address
    server.stop()

Blocking methods (``start``, ``stop``, ``restart``) may be called from async tests too (the
readiness probe runs its own event loop in a worker thread), but they block the caller's event
loop while they run: use the ``astart``/``astop``/``arestart`` wrappers when other coroutines of
the test must keep running meanwhile.
"""

from __future__ import annotations

import asyncio
import atexit
import base64
import concurrent.futures
import contextlib
import fcntl
import logging
import os
import shutil
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator, Mapping
from pathlib import Path
from typing import Any, Final, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code

__all__ = [
    "KAFKA_VERSION",
    "KafkaServer",
    "KafkaServerError",
    "cache_dir",
    "create_topic",
    "ensure_kafka_libs",
    "unique_name",
]

KAFKA_VERSION: Final = "3.9.1"
"""Apache Kafka release used by the harness (keep in sync with ``kafka/pom.xml``)."""

POM_PATH: Final = Path(__file__).with_name("kafka") / "pom.xml"
START_TIMEOUT_S: Final = 60.0
STOP_TIMEOUT_S: Final = 20.0
MAVEN_TIMEOUT_S: Final = 900.0
MAX_MESSAGE_BYTES: Final = 10 * 1024 * 1024
"""Broker-side maximum record batch size (at least the 8 MiB webhook body limit)."""

_MARKER: Final = "libs.complete"
_START_BANNER: Final = "===== harness: starting"
_log = logging.getLogger(__name__)
_T = TypeVar("_T")

_LIVE_BROKERS: set[subprocess.Popen[bytes]] = set()
"""Broker processes still running: killed at interpreter exit if teardown never ran."""


@atexit.register
def _kill_leftover_brokers() -> None:
    for process in list(_LIVE_BROKERS):
        with contextlib.suppress(OSError):
            process.kill()
            process.wait(10)
    _LIVE_BROKERS.clear()


class KafkaServerError(RuntimeError):
    """The broker could not be fetched, formatted, started or stopped."""


# --------------------------------------------------------------------------- jars


def cache_dir() -> Path:
    """Root of the harness caches: ``$XDG_CACHE_HOME/integrations-test`` (``~/.cache``)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "integrations-test"


def ensure_kafka_libs(version: str = KAFKA_VERSION) -> Path:
    """Return the directory of the broker's jars, fetching them with Maven on first use.

    A marker file written after a successful copy makes later calls cheap; a file lock keeps
    parallel test processes from downloading at the same time.
    """
    root = cache_dir() / f"kafka-{version}"
    libs = root / "libs"
    marker = root / _MARKER
    if marker.is_file():
        return libs
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root / "libs.lock"):
        if marker.is_file():  # another process fetched them while we waited
            return libs
        mvn = shutil.which("mvn")
        if mvn is None:
            raise KafkaServerError(
                "Apache Maven (mvn) is needed once to fetch the Kafka broker jars "
                f"from Maven Central into {libs}"
            )
        staging = root / f"libs.tmp-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        command = [
            mvn,
            "-B",
            "-q",
            "-f",
            str(POM_PATH),
            f"-Dkafka.version={version}",
            "dependency:copy-dependencies",
            "-DincludeScope=runtime",
            f"-DoutputDirectory={staging}",
        ]
        _log.info("fetching Apache Kafka %s jars: %s", version, " ".join(command))
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                timeout=MAVEN_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            shutil.rmtree(staging, ignore_errors=True)
            raise KafkaServerError(f"mvn timed out after {MAVEN_TIMEOUT_S:.0f} s") from exc
        jars = sorted(p.name for p in staging.glob("*.jar")) if staging.is_dir() else []
        if result.returncode != 0 or f"kafka_2.13-{version}.jar" not in jars:
            shutil.rmtree(staging, ignore_errors=True)
            raise KafkaServerError(
                f"fetching the Kafka {version} jars failed (mvn exit {result.returncode}):\n"
                + _tail(result.stdout + result.stderr, 60)
            )
        shutil.rmtree(libs, ignore_errors=True)
        staging.rename(libs)
        marker.write_text("\n".join(jars) + "\n", encoding="utf-8")
    return libs


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --------------------------------------------------------------------------- server


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _accepts_connections(host: str, port: int) -> bool:
    """Cheap TCP check first, so the Kafka client does not log a connection error per probe."""
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


def _random_cluster_id() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding (22 chars)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode("ascii").rstrip("=")
        if not cluster_id.startswith("-"):  # Kafka avoids ids that look like CLI options
            return cluster_id


def _tail(text: str, lines: int) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _run_in_fresh_loop(factory: Callable[[], Coroutine[Any, Any, _T]]) -> _T:
    """Run a coroutine to completion in its own event loop, in a worker thread.

    Works whether or not the calling thread already runs an event loop.
    """
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(factory())).result()


_LOG4J_PROPERTIES: Final = """\
log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.controller=INFO
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.org.apache.kafka.clients=WARN
log4j.logger.org.apache.kafka.common.utils.AppInfoParser=INFO
log4j.logger.org.apache.zookeeper=WARN
"""


class KafkaServer:
    """One Apache Kafka broker+controller (KRaft) process on 127.0.0.1, data under ``workdir``.

    Ports are picked on the first ``start()`` and kept for the life of the object, as is the
    data directory, so ``stop()``/``kill()`` followed by ``start()`` (or ``restart()``) brings
    back the same broker at the same address with its topics, records and committed offsets.
    """

    def __init__(
        self,
        workdir: Path,
        *,
        version: str = KAFKA_VERSION,
        start_timeout: float = START_TIMEOUT_S,
        heap: str = "512m",
        extra_properties: Mapping[str, str] | None = None,
    ) -> None:
        self.workdir = Path(workdir)
        self.version = version
        self.start_timeout = start_timeout
        self.heap = heap
        self.extra_properties = dict(extra_properties or {})
        self.port: int | None = None
        self.controller_port: int | None = None
        self.cluster_id: str | None = None
        self.startup_seconds: float | None = None
        """Wall time of the last successful ``start()`` (jar fetch excluded)."""
        self._process: subprocess.Popen[bytes] | None = None

    # ------------------------------------------------------------------ properties

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def bootstrap_port(self) -> int:
        if self.port is None:
            raise KafkaServerError("the Kafka broker has not been started yet")
        return self.port

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.bootstrap_port}"

    @property
    def description(self) -> str:
        """Human-readable one-liner, e.g. for test reports."""
        where = self.bootstrap_servers if self.port is not None else "(not started)"
        return f"Apache Kafka {self.version} (KRaft) at {where}"

    @property
    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        return self._process.pid if self.is_running and self._process else None

    @property
    def log_path(self) -> Path:
        return self.workdir / "server.log"

    @property
    def data_dir(self) -> Path:
        return self.workdir / "data"

    @property
    def properties_path(self) -> Path:
        return self.workdir / "server.properties"

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Start the broker and block until it serves metadata (or raise ``KafkaServerError``).

        The first call picks free ports, writes the configuration and formats the storage;
        later calls (after ``stop``/``kill``) reuse all of them.
        """
        if self.is_running:
            return
        libs = ensure_kafka_libs(self.version)
        begin = time.monotonic()
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.port is None or self.controller_port is None:
            self.port, self.controller_port = _free_port(), _free_port()
            while self.controller_port == self.port:
                self.controller_port = _free_port()
        self._write_config()
        if not (self.data_dir / "meta.properties").is_file():
            self._format_storage(libs)
        self.cluster_id = self._formatted_cluster_id()
        with self.log_path.open("ab") as log:
            log.write(f"\n{_START_BANNER} {self.description} =====\n".encode())
            log.flush()
            self._process = subprocess.Popen(
                [*self._java_command(libs), "kafka.Kafka", str(self.properties_path)],
                cwd=self.workdir,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C on pytest must not kill it before teardown
            )
        _LIVE_BROKERS.add(self._process)
        try:
            _run_in_fresh_loop(self._wait_until_ready)
        except BaseException:
            self.kill()
            raise
        self.startup_seconds = time.monotonic() - begin
        _log.info("%s ready in %.1f s", self.description, self.startup_seconds)

    def stop(self, grace: float = STOP_TIMEOUT_S) -> None:
        """Graceful shutdown (SIGTERM), SIGKILL if it has not exited after ``grace`` s."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGCONT)  # in case it was paused
                process.send_signal(signal.SIGTERM)
            try:
                process.wait(grace)
            except subprocess.TimeoutExpired:
                _log.warning("Kafka broker ignored SIGTERM for %.0f s, killing it", grace)
                self.kill()
                return
        _LIVE_BROKERS.discard(process)
        self._process = None

    def kill(self) -> None:
        """Crash the broker (SIGKILL): no controlled shutdown, logs recovered on next start."""
        process = self._process
        if process is None:
            return
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(signal.SIGKILL)
        process.wait()
        _LIVE_BROKERS.discard(process)
        self._process = None

    def restart(self, *, down_for: float = 0.0, graceful: bool = True) -> None:
        """Stop (or kill), stay down ``down_for`` seconds, start again on the same ports/data."""
        if graceful:
            self.stop()
        else:
            self.kill()
        if down_for > 0:
            time.sleep(down_for)
        self.start()

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections stay open but nothing is answered."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Unfreeze a paused broker (SIGCONT)."""
        self._signal(signal.SIGCONT)

    async def astart(self) -> None:
        await asyncio.to_thread(self.start)

    async def astop(self, grace: float = STOP_TIMEOUT_S) -> None:
        await asyncio.to_thread(self.stop, grace)

    async def arestart(self, *, down_for: float = 0.0, graceful: bool = True) -> None:
        """Like ``restart`` but lets the caller's event loop run meanwhile."""
        if graceful:
            await self.astop()
        else:
            self.kill()
        if down_for > 0:
            await asyncio.sleep(down_for)
        await self.astart()

    def log_tail(self, lines: int = 60) -> str:
        """The last lines of the current run's log, after its ERROR/FATAL lines (the cause)."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return "(no server log)"
        current_run = text.rpartition(_START_BANNER)[2]
        errors = [
            line for line in current_run.splitlines() if " ERROR " in line or " FATAL " in line
        ]
        if not errors:
            return _tail(current_run, lines)
        return (
            "errors:\n"
            + "\n".join(errors[:15])
            + f"\n\nlast {lines} lines:\n"
            + _tail(current_run, lines)
        )

    def __enter__(self) -> KafkaServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running else "stopped"
        return f"<KafkaServer {self.description} {state} workdir={self.workdir}>"

    # ------------------------------------------------------------------ internals

    def _signal(self, signum: signal.Signals) -> None:
        if self._process is None or self._process.poll() is not None:
            raise KafkaServerError("the Kafka broker is not running")
        self._process.send_signal(signum)

    def _properties(self) -> dict[str, str]:
        assert self.port is not None
        assert self.controller_port is not None
        props = {
            # single combined broker + controller node, KRaft
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@{self.host}:{self.controller_port}",
            "listeners": (
                f"PLAINTEXT://{self.host}:{self.port},CONTROLLER://{self.host}:{self.controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://{self.host}:{self.port}",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.data_dir),
            # one node: every replication factor is 1
            "default.replication.factor": "1",
            "min.insync.replicas": "1",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "5",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "5",
            # topics
            "auto.create.topics.enable": "true",
            "delete.topic.enable": "true",
            "num.partitions": "1",
            "message.max.bytes": str(MAX_MESSAGE_BYTES),
            "replica.fetch.max.bytes": str(MAX_MESSAGE_BYTES),
            # fast tests
            "group.initial.rebalance.delay.ms": "0",
            # after a kill() the restarted broker cannot register until the controller has
            # expired the dead incarnation's session (default 9 s)
            "broker.session.timeout.ms": "4000",
            "broker.heartbeat.interval.ms": "1000",
            "num.network.threads": "2",
            "num.io.threads": "4",
            "num.recovery.threads.per.data.dir": "1",
            "log.cleaner.threads": "1",
            "log.cleaner.dedupe.buffer.size": str(8 * 1024 * 1024),
        }
        props.update(self.extra_properties)
        return props

    def _write_config(self) -> None:
        lines = [f"{key}={value}" for key, value in self._properties().items()]
        self.properties_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        (self.workdir / "log4j.properties").write_text(_LOG4J_PROPERTIES, encoding="utf-8")

    def _java_command(self, libs: Path) -> list[str]:
        java_home = os.environ.get("JAVA_HOME")
        java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
        if not java or not Path(java).exists():
            raise KafkaServerError("a Java runtime (java, 17+) is needed to run the Kafka broker")
        return [
            java,
            f"-Xmx{self.heap}",
            "-Xms128m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",  # C1 only: much faster JVM start, plenty for tests
            "-Xshare:auto",
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{self.workdir / 'log4j.properties'}",
            f"-Dkafka.logs.dir={self.workdir / 'logs'}",
            "-cp",
            f"{libs}/*",
        ]

    def _format_storage(self, libs: Path) -> None:
        self.cluster_id = self.cluster_id or _random_cluster_id()
        command = [
            *self._java_command(libs),
            "kafka.tools.StorageTool",
            "format",
            "-t",
            self.cluster_id,
            "-c",
            str(self.properties_path),
        ]
        result = subprocess.run(
            command,
            cwd=self.workdir,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        with self.log_path.open("a", encoding="utf-8") as log:
            log.write(f"===== harness: format storage, cluster id {self.cluster_id} =====\n")
            log.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise KafkaServerError(
                f"kafka.tools.StorageTool format failed (exit {result.returncode}):\n"
                + _tail(result.stdout + result.stderr, 40)
            )

    def _formatted_cluster_id(self) -> str:
        for line in (self.data_dir / "meta.properties").read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition("=")
            if sep and key.strip() == "cluster.id":
                return value.strip()
        raise KafkaServerError(f"no cluster.id in {self.data_dir / 'meta.properties'}")

    async def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        last_error: BaseException | None = None
        while True:
            process = self._process
            if process is None or process.poll() is not None:
                code = process.returncode if process is not None else None
                raise KafkaServerError(
                    f"the Kafka broker exited during startup (exit code {code}); "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            try:
                if _accepts_connections(self.host, self.bootstrap_port) and (
                    await self._serves_metadata()
                ):
                    return
            except (TimeoutError, KafkaError, OSError) as exc:
                last_error = exc
            except KafkaServerError as exc:
                raise KafkaServerError(f"{exc}; log {self.log_path}:\n{self.log_tail()}") from None
            if time.monotonic() > deadline:
                raise KafkaServerError(
                    f"the Kafka broker at {self.bootstrap_servers} was not ready after "
                    f"{self.start_timeout:.0f} s (last probe error: {last_error!r}); "
                    f"log {self.log_path}:\n{self.log_tail()}"
                )
            await asyncio.sleep(0.25)

    async def _serves_metadata(self) -> bool:
        """True once *our* broker (not whoever took the port) is registered and unfenced."""
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.bootstrap_servers,
            request_timeout_ms=5000,
            client_id="kafka-test-harness",
        )
        try:
            await admin.start()
            cluster = await admin.describe_cluster()
        finally:
            await admin.close()
        if cluster.get("cluster_id") != self.cluster_id:
            raise KafkaServerError(
                f"{self.bootstrap_servers} is another Kafka cluster "
                f"({cluster.get('cluster_id')!r}, expected {self.cluster_id!r}): port taken?"
            )
        brokers = cluster.get("brokers") or []
        return bool(brokers) and cluster.get("controller_id", -1) >= 0


# --------------------------------------------------------------------------- helpers


def unique_name(prefix: str = "test") -> str:
    """A topic or group name no other test (or earlier run on the same broker) uses."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def create_topic(
    bootstrap: str,
    name: str,
    partitions: int = 1,
    config: Mapping[str, str] | None = None,
    *,
    timeout_s: float = 30.0,
) -> None:
    """Create a topic and wait until every partition has a leader in the broker's metadata.

    Waiting matters: a consumer group that joins before the topic shows up in the metadata is
    assigned nothing until its next metadata refresh (minutes by default).
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="kafka-test-harness")
    try:
        await admin.start()
        response = await admin.create_topics(
            [NewTopic(name, partitions, 1, topic_configs=dict(config or {}))],
            timeout_ms=int(timeout_s * 1000),
        )
        for topic_error in response.topic_errors:
            code = topic_error[1]
            if code != 0:
                message = topic_error[2] if len(topic_error) > 2 else ""
                raise for_code(code)(f"creating topic {topic_error[0]!r}: {message}")
        deadline = time.monotonic() + timeout_s
        while not await _topic_ready(admin, name, partitions):
            if time.monotonic() > deadline:
                raise KafkaServerError(f"topic {name!r} has no leaders after {timeout_s:.0f} s")
            await asyncio.sleep(0.1)
    finally:
        await admin.close()


async def _topic_ready(admin: AIOKafkaAdminClient, name: str, partitions: int) -> bool:
    described: list[dict[str, Any]] = await admin.describe_topics([name])
    for topic in described:
        if topic.get("topic") != name or topic.get("error_code", 0) != 0:
            continue
        parts = topic.get("partitions") or []
        return len(parts) == partitions and all(
            p.get("error_code", 0) == 0 and p.get("leader", -1) >= 0 for p in parts
        )
    return False
