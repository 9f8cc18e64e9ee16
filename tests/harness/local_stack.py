"""The distributed platform on one machine without Docker: the harness's real Kafka and
MongoDB-wire servers, and the four services as separate `integrations serve` processes.

Used by `deploy/local/infra.py`, `deploy/local/run_distributed.py`, their test and the
end-to-end fault tests (tests/e2e/), which stop and start single services.
"""

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from integrations.bus.admin import ensure_topics
from integrations.catalog import SERVICES
from integrations.contracts import TOPICS
from integrations.crypto import KeyRing, Purpose, generate_root_key
from tests.harness.kafka import KafkaServer
from tests.harness.mongo import MongoWireServer

READY_WITHIN_S = 90.0


@dataclass(frozen=True)
class Infra:
    kafka_bootstrap: str
    mongodb_uri: str

    def env(self) -> dict[str, str]:
        return {"KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap, "DATABASE_URL": self.mongodb_uri}


@contextmanager
def running_infra(workdir: Path) -> Iterator[Infra]:
    """Kafka and the MongoDB-wire server under `workdir`, the contract's topics created."""
    with KafkaServer(workdir / "kafka") as kafka:
        mongo = MongoWireServer(workdir / "mongo")
        mongo.start()
        try:
            # Topics as `integrations topics create` makes them: the services expect them.
            asyncio.run(ensure_topics(kafka.bootstrap_servers, TOPICS))
            yield Infra(kafka.bootstrap_servers, mongo.uri)
        finally:
            mongo.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass(frozen=True)
class StackSecrets:
    """The secrets the services of one stack share; tests keep them to mint user tokens, open
    sealed webhook secrets and scan everything the stack wrote for leaks."""

    jwt_secret: str = field(default_factory=lambda: os.urandom(32).hex())
    service_token: str = field(default_factory=lambda: os.urandom(32).hex())
    encryption_keys: str = field(default_factory=lambda: KeyRing([generate_root_key()]).export())

    def derived_keys(self, purpose: Purpose) -> str:
        """The ring of one purpose, as `integrations keys derive PURPOSE` prints it."""
        return KeyRing.parse(self.encryption_keys).derive(purpose).export()


def service_envs(
    infra_env: Mapping[str, str],
    ports: Mapping[str, int],
    *,
    database_prefix: str | None = None,
    secrets: StackSecrets | None = None,
) -> dict[str, dict[str, str]]:
    """Each service's environment: the infra's, secrets shared by all, its own port.

    Every service gets only the keys it needs, as in a deployment (docs/operations.md).
    `database_prefix` gives each service a database of its own on a shared server (tests).
    """
    secrets = secrets or StackSecrets()
    credentials_url = f"http://127.0.0.1:{ports['credentials']}"
    shared = {
        **infra_env,
        "JWT_SECRET": secrets.jwt_secret,
        "SERVICE_TOKEN": secrets.service_token,
        "PLATFORM_BASE_URL": f"http://127.0.0.1:{ports['ingress']}",
        "LOG_FORMAT": "text",
    }
    own = {
        "ingress": {
            "WEBHOOK_SECRET_KEYS": secrets.derived_keys(Purpose.WEBHOOK_SECRETS),
            "CREDENTIALS_INTERNAL_URL": credentials_url,
        },
        "credentials": {"ENCRYPTION_KEYS": secrets.encryption_keys},
        "oauth": {
            "TRANSPORT_KEYS": secrets.derived_keys(Purpose.TRANSPORT),
            "CREDENTIALS_INTERNAL_URL": credentials_url,
        },
        "dispatcher": {},
    }
    envs = {
        name: {**shared, **own[name], "HTTP_HOST": "127.0.0.1", "HTTP_PORT": str(ports[name])}
        for name in SERVICES
    }
    if database_prefix is not None:
        for name, env in envs.items():
            env["DATABASE_NAME"] = f"{database_prefix}_{name}"
    return envs


class ServiceProcess:
    """`integrations serve NAME` as its own process, its output in a log file.

    `stop()`/`kill()` then `start()` bring the service back on the same port with the same
    environment (fault tests); every run appends to the same log.
    """

    def __init__(
        self,
        name: str,
        env: Mapping[str, str],
        log_dir: Path,
        *,
        launcher: Sequence[str] | None = None,
    ) -> None:
        """`launcher`: the command that takes `serve NAME` (default: the `integrations` CLI)."""
        self.name = name
        self.env = dict(env)
        self.port = int(env["HTTP_PORT"])
        self.log_path = log_dir / f"{name}.log"
        console_script = Path(sys.executable).with_name("integrations")
        default = (
            [str(console_script)]
            if console_script.exists()
            else [sys.executable, "-m", "integrations.cli.main"]
        )
        self.launcher = launcher
        self._command = [*(launcher or default), "serve", name]
        self.process = self._spawn()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def is_running(self) -> bool:
        return self.process.poll() is None

    def start(self) -> None:
        """Launch the process again unless it runs; `wait_ready` tells when it serves."""
        if not self.is_running:
            self.process = self._spawn()

    def _spawn(self) -> subprocess.Popen[bytes]:
        with self.log_path.open("ab") as log:
            # The parent's environment first (PATH, the virtualenv), the service's on top.
            return subprocess.Popen(
                self._command, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT
            )

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.url}/readyz", timeout=2.0).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """SIGTERM, as an orchestrator stops a pod; SIGKILL if it lingers."""
        if self.is_running:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def kill(self) -> None:
        if self.is_running:
            self.process.kill()
            self.process.wait(10)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:]


@contextmanager
def running_services(
    infra_env: Mapping[str, str],
    log_dir: Path,
    *,
    database_prefix: str | None = None,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    secrets: StackSecrets | None = None,
    launcher: Sequence[str] | None = None,
) -> Iterator[list[ServiceProcess]]:
    """The four services, each on a free port, started and ready (or an error with its log).

    `overrides` adds settings per service name (e.g. a consumer group of its own);
    `secrets` are the shared secrets (default: fresh ones); `launcher` replaces the
    `integrations` CLI (see `ServiceProcess`).
    """
    ports = {name: free_port() for name in SERVICES}
    envs = service_envs(infra_env, ports, database_prefix=database_prefix, secrets=secrets)
    for name, extra in (overrides or {}).items():
        envs[name].update(extra)
    log_dir.mkdir(parents=True, exist_ok=True)
    processes: list[ServiceProcess] = []
    try:
        for name, env in envs.items():
            processes.append(ServiceProcess(name, env, log_dir, launcher=launcher))
        wait_ready(processes)
        yield processes
    finally:
        for process in reversed(processes):
            process.stop()


def wait_ready(processes: list[ServiceProcess]) -> None:
    deadline = time.monotonic() + READY_WITHIN_S
    waiting = list(processes)
    while waiting and time.monotonic() < deadline:
        for process in list(waiting):
            if not process.is_running:
                raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
            if process.ready():
                waiting.remove(process)
        time.sleep(0.2)
    if waiting:
        raise RuntimeError(f"{waiting[0].name} not ready:\n{waiting[0].log_tail()}")
