"""deploy/local: the infrastructure script and the four services as separate processes."""

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest

from tests.harness.local_stack import running_services
from tests.unit.dispatcher.kafka_kit import provision_topics

ROOT = Path(__file__).resolve().parents[2]
INFRA_WITHIN_S = 120.0


@pytest.mark.e2e
async def test_the_four_services_run_as_processes_and_are_ready(
    kafka_bootstrap: str, mongodb_uri: str, tmp_path: Path
) -> None:
    await provision_topics(kafka_bootstrap)
    infra_env = {"KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "DATABASE_URL": mongodb_uri}
    prefix = f"local_{uuid.uuid4().hex[:8]}"
    with running_services(infra_env, tmp_path / "logs", database_prefix=prefix) as services:
        assert sorted(service.name for service in services) == [
            "credentials",
            "dispatcher",
            "ingress",
            "oauth",
        ]
        async with httpx.AsyncClient(timeout=5.0) as client:
            for service in services:
                ready = await client.get(f"{service.url}/readyz")
                assert ready.status_code == 200, (service.name, ready.text)
                # Standalone hosts serve /metrics too, FastStream's Kafka metrics included.
                scraped = await client.get(f"{service.url}/metrics")
                assert scraped.status_code == 200, service.name
                assert "http_server_request_duration_seconds" in scraped.text, service.name


@pytest.mark.integration
def test_the_infra_script_prints_the_env_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    script = subprocess.Popen(
        [sys.executable, str(ROOT / "deploy" / "local" / "infra.py"), "--workdir", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        # Its own settings, not an external broker the test session may have been given.
        env={k: v for k, v in os.environ.items() if k != "KAFKA_BOOTSTRAP_SERVERS"},
    )
    try:
        assert script.stdout is not None
        exports = [script.stdout.readline().strip() for _ in range(2)]
        assert exports[0].startswith("export KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:")
        assert exports[1].startswith("export DATABASE_URL=mongodb://127.0.0.1:")
        script.send_signal(signal.SIGINT)
        assert script.wait(INFRA_WITHIN_S) == 0
    finally:
        if script.poll() is None:
            script.kill()
            script.wait(10)
        if script.stdout is not None:
            script.stdout.close()
