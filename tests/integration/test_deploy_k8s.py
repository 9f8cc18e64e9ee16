"""deploy/k8s: the kustomizations build, and every resource validates against its schema.

kustomize and kubeconform are `go install`-ed from the Go module proxy and the Kubernetes
JSON Schemas come from the `kubernetes-validate` wheel on PyPI (tests/harness/deploy_tools.py),
all cached: the check runs offline from GitHub. KEDA's ScaledObject is a CRD with no schema
there; it is validated against a hand-written subset of KEDA's schema
(deploy_schemas/scaledobject-keda-v1alpha1.json) instead of being skipped, and any other
kind without a schema fails the check (no -ignore-missing-schemas).
"""

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from integrations.catalog import SERVICES
from integrations.contracts import topic_spec, topics
from integrations.dispatcher.config import DispatcherSettings
from tests.harness.deploy_tools import (
    KUBECONFORM,
    KUSTOMIZE,
    DeployToolError,
    go_install,
    kubernetes_schemas,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
CRD_SCHEMAS = Path(__file__).resolve().parent / "deploy_schemas"
KUSTOMIZATIONS = ("base", "overlays/example")


def _run(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=300, check=False
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """`kustomize build` of each kustomization, as a file."""
    try:
        kustomize = go_install(KUSTOMIZE)
    except DeployToolError as exc:
        pytest.fail(str(exc))
    out = tmp_path_factory.mktemp("kustomize")
    files = {}
    for name in KUSTOMIZATIONS:
        result = _run([str(kustomize), "build", str(K8S / name)])
        assert result.returncode == 0, f"kustomize build {name} failed:\n{result.stderr}"
        files[name] = out / (name.replace("/", "_") + ".yaml")
        files[name].write_text(result.stdout)
    return files


def kubeconform(*files: Path) -> tuple[int, dict[str, Any]]:
    try:
        binary = go_install(KUBECONFORM)
        schemas = kubernetes_schemas()
    except DeployToolError as exc:
        pytest.fail(str(exc))
    template = "{{ .ResourceKind }}{{ .KindSuffix }}.json"
    result = _run(
        [
            str(binary),
            "-strict",
            "-summary",
            "-output",
            "json",
            "-schema-location",
            f"{schemas}/{template}",
            "-schema-location",
            f"{CRD_SCHEMAS}/{template}",
            *map(str, files),
        ]
    )
    report: dict[str, Any] = json.loads(result.stdout)
    return result.returncode, report


@pytest.mark.parametrize("name", KUSTOMIZATIONS)
def test_every_resource_validates(built: dict[str, Path], name: str) -> None:
    returncode, report = kubeconform(built[name])
    problems = [r for r in report["resources"] if r["status"] != "statusValid"]
    assert not problems, json.dumps(problems, indent=2)
    assert returncode == 0
    summary = report["summary"]
    assert summary["skipped"] == 0, summary
    assert summary["valid"] >= 17, summary


def test_the_validator_does_refuse_an_invalid_manifest(tmp_path: Path) -> None:
    # Guards against a vacuous pass (schemas not found, refs not resolved, ...).
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        (K8S / "base" / "ingress.yaml")
        .read_text()
        .replace("containerPort: 8000", 'containerPort: "8000"\n              bogus: 1')
    )
    returncode, report = kubeconform(bad)
    assert returncode != 0
    assert report["summary"]["invalid"] == 1, report


@pytest.mark.parametrize("service", list(SERVICES))
def test_each_service_has_probes_scaling_and_hardening(service: str) -> None:
    text = (K8S / "base" / f"{service}.yaml").read_text()
    for needle in (
        "kind: Deployment",
        "kind: Service",
        "kind: PodDisruptionBudget",
        "path: /healthz",
        "path: /readyz",
        "runAsNonRoot: true",
        "readOnlyRootFilesystem: true",
        "allowPrivilegeEscalation: false",
        f'args: ["serve", "{service}"]',
        "requests:",
    ):
        assert needle in text, f"{service}.yaml lacks {needle!r}"
    scaler = "kind: ScaledObject" if service == "dispatcher" else "kind: HorizontalPodAutoscaler"
    assert scaler in text


def test_the_dispatcher_scales_on_its_own_consumer_lag() -> None:
    text = (K8S / "base" / "dispatcher.yaml").read_text()
    settings = DispatcherSettings()
    assert f"consumerGroup: {settings.consumer_group}" in text
    assert f"topic: {topics.WEBHOOK_EVENTS}" in text
    found = re.search(r"maxReplicaCount: (\d+)", text)
    assert found is not None
    max_replicas = int(found.group(1))
    # A replica beyond the partition count would sit idle.
    assert max_replicas <= topic_spec(topics.WEBHOOK_EVENTS).partitions


def test_credentials_port_is_limited_to_the_platform() -> None:
    text = (K8S / "base" / "networkpolicy.yaml").read_text()
    assert "app.kubernetes.io/name: integrations-credentials" in text
    assert "app.kubernetes.io/part-of: integrations-platform" in text
    assert "L4" in text  # the documented limit: paths are the edge's job
