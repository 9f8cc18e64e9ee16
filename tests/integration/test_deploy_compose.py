"""docker-compose.yml parses with Compose itself, and has the shape the deployment needs.

Compose is the `docker compose` plugin when the docker client has one, else Compose v2
built from the Go module proxy (tests/harness/deploy_tools.py). No Compose: the test fails.
"""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from integrations.credentials.config import CredentialsSettings
from integrations.dispatcher.config import DispatcherSettings
from integrations.ingress.config import IngressSettings
from integrations.oauth.config import OAuthSettings
from tests.harness.deploy_tools import DeployToolError, compose_command

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("ingress", "credentials", "oauth", "dispatcher")
SETTINGS = (IngressSettings, CredentialsSettings, OAuthSettings, DispatcherSettings)


@pytest.fixture(scope="module")
def compose_config() -> dict[str, Any]:
    try:
        command = compose_command()
    except DeployToolError as exc:
        pytest.fail(str(exc))
    result = subprocess.run(
        [*command, "-f", "docker-compose.yml", "config", "--format", "json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"docker compose config failed:\n{result.stderr}"
    config: dict[str, Any] = json.loads(result.stdout)
    return config


def test_the_four_services_run_the_image_with_their_command(
    compose_config: dict[str, Any],
) -> None:
    services = compose_config["services"]
    for name in SERVICES:
        service = services[name]
        assert service["command"] == ["serve", name]
        assert "build" in service
        assert service["environment"]["HTTP_HOST"] == "0.0.0.0"
    assert services["topics"]["command"][:2] == ["topics", "create"]


def test_scalable_services_have_no_fixed_name_or_host_port(
    compose_config: dict[str, Any],
) -> None:
    for name in (*SERVICES, "topics"):
        service = compose_config["services"][name]
        assert "container_name" not in service, name
        assert not service.get("ports"), f"{name} publishes a host port: --scale would clash"


def test_startup_order_waits_for_health_and_one_shots(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    for name in SERVICES:
        assert "/readyz" in " ".join(services[name]["healthcheck"]["test"]), name
        depends = services[name]["depends_on"]
        assert depends["topics"]["condition"] == "service_completed_successfully"
        assert depends["mongo-init"]["condition"] == "service_completed_successfully"
    assert services["topics"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    assert services["mongo-init"]["depends_on"]["mongo"]["condition"] == "service_healthy"
    proxy_deps = services["proxy"]["depends_on"]
    assert {n: proxy_deps[n]["condition"] for n in SERVICES} == dict.fromkeys(
        SERVICES, "service_healthy"
    )


def test_infrastructure_is_as_documented(compose_config: dict[str, Any]) -> None:
    services = compose_config["services"]
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "--replSet" in services["mongo"]["command"]
    assert "rs.initiate" in " ".join(services["mongo-init"]["entrypoint"])
    mounted = {
        Path(volume["source"]).relative_to(ROOT).as_posix()
        for name in ("proxy", "otel-collector")
        for volume in services[name]["volumes"]
    }
    assert mounted == {"deploy/proxy/nginx.conf", "deploy/otel/collector.yaml"}
    assert {"jaeger", "otel-collector", "proxy"} <= services.keys()


def test_env_example_documents_every_setting() -> None:
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    settings = {name.upper() for cls in SETTINGS for name in cls.model_fields}
    missing = sorted(settings - documented)
    assert not missing, f".env.example does not document: {', '.join(missing)}"
    unknown = sorted(documented - settings - {"PROXY_PORT", "JAEGER_UI_PORT"})
    assert not unknown, f".env.example documents settings no service reads: {unknown}"
