"""The four services of a fault test as separate processes, with the secrets they share and
consumer groups of their own."""

import asyncio
import uuid
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from integrations.auth import issue_dev_token
from integrations.contracts import topics
from integrations.crypto import Purpose
from tests.e2e.leaks import LeakScan, key_ring_secrets
from tests.harness.local_stack import (
    ServiceProcess,
    StackSecrets,
    free_port,
    running_services,
    wait_ready,
)
from tests.unit.dispatcher.kafka_kit import start_group_at_end

# Consumer groups of each stack's own, started at the topics' ends: the session's broker
# holds other tests' records, which a new group would otherwise read from the beginning.
CONSUMER_GROUPS = {
    "dispatcher": {
        "CONSUMER_GROUP": topics.WEBHOOK_EVENTS,
        "RESULTS_CONSUMER_GROUP": topics.GRAPH_EXECUTION_RESULTS,
    },
    "credentials": {
        "COMMANDS_CONSUMER_GROUP": topics.CREDENTIALS_COMMANDS,
        "TRIGGER_COMMANDS_CONSUMER_GROUP": topics.TRIGGER_COMMANDS,
    },
}


@dataclass
class Stack:
    """The four running services of one test, with the secrets they share."""

    services: dict[str, ServiceProcess]
    secrets: StackSecrets
    http: httpx.AsyncClient
    """Every response it receives goes through the leak scan."""
    pids: dict[str, int] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return self.services[service].url

    def user(self, user_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_dev_token(self.secrets.jwt_secret, user_id)}"}

    @property
    def internal(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.secrets.service_token}"}

    async def stop(self, service: str) -> None:
        await asyncio.to_thread(self.services[service].stop)

    async def kill(self, service: str) -> None:
        """SIGKILL, as a crash or an OOM kill: no shutdown, nothing flushed or committed."""
        await asyncio.to_thread(self.services[service].kill)

    async def start(self, service: str) -> None:
        """Start a stopped service again (same port, same settings) and wait until ready."""
        process = self.services[service]
        process.start()
        await asyncio.to_thread(wait_ready, [process])

    def restarted(self) -> list[str]:
        """Services whose process is not the one first started: none, for 'no restarts'."""
        return [
            name
            for name, process in self.services.items()
            if not process.is_running or process.process.pid != self.pids[name]
        ]


class StackFactory:
    def __init__(self, bootstrap: str, infra_env: dict[str, str], scan: LeakScan, logs: Path):
        self._bootstrap = bootstrap
        self._infra_env = infra_env
        self._scan = scan
        self._logs = logs
        self._exit = ExitStack()
        self._clients: list[httpx.AsyncClient] = []

    async def start(
        self,
        *,
        overrides: dict[str, dict[str, str]] | None = None,
        launcher: Sequence[str] | None = None,
    ) -> Stack:
        run = uuid.uuid4().hex[:8]
        secrets = StackSecrets()
        self._scan.add_secrets(secrets.jwt_secret, secrets.service_token)
        self._scan.add_secrets(*key_ring_secrets(secrets.encryption_keys))
        for purpose in Purpose:
            self._scan.add_secrets(*key_ring_secrets(secrets.derived_keys(purpose)))
        settings: dict[str, dict[str, str]] = {}
        for service, groups in CONSUMER_GROUPS.items():
            settings[service] = {}
            for variable, topic in groups.items():
                group = f"e2e-{run}-{variable.lower()}"
                await start_group_at_end(self._bootstrap, group, topic)
                settings[service][variable] = group
        for service, extra in (overrides or {}).items():
            settings.setdefault(service, {}).update(extra)
        processes = await asyncio.to_thread(
            self._exit.enter_context,
            running_services(
                self._infra_env,
                self._logs / run,
                database_prefix=f"e2e_{run}",
                overrides=settings,
                secrets=secrets,
                launcher=launcher,
            ),
        )
        self._scan.log_paths.update(process.log_path for process in processes)
        http = self._scan.client()
        self._clients.append(http)
        services = {process.name: process for process in processes}
        pids = {name: process.process.pid for name, process in services.items()}
        return Stack(services, secrets, http, pids)

    async def replica(self, stack: Stack, service: str) -> ServiceProcess:
        """One more process of `service`, same settings, its own port; ready, and stopped with
        the stack."""
        first = stack.services[service]
        n = sum(1 for path in self._scan.log_paths if path.name == first.log_path.name) + 1
        log_dir = first.log_path.parent / f"replica-{n}"
        log_dir.mkdir()
        process = ServiceProcess(
            service, {**first.env, "HTTP_PORT": str(free_port())}, log_dir, launcher=first.launcher
        )
        self._exit.callback(process.stop)
        self._scan.log_paths.add(process.log_path)
        await asyncio.to_thread(wait_ready, [process])
        return process

    async def close(self) -> None:
        for client in self._clients:
            await client.aclose()
        await asyncio.to_thread(self._exit.close)
