"""Fetch and build everything the integration tests start, before the tests run.

    python -m tests.harness.prefetch

Kafka's jars (Maven Central), FerretDB and the deployment checkers (Go module proxy) are
cached under ~/.cache/integrations-test; a cold machine builds them in several minutes,
longer than one test's time limit. `make test` runs this first, so a test's own time
limit only ever covers the test.
"""

import time
from collections.abc import Callable

from tests.harness.deploy_tools import (
    KUBECONFORM,
    KUSTOMIZE,
    compose_command,
    go_install,
    kubernetes_schemas,
)
from tests.harness.kafka import ensure_kafka_libs
from tests.harness.mongo import build_ferretdb


def main() -> None:
    steps: list[tuple[str, Callable[[], object]]] = [
        ("Kafka jars", ensure_kafka_libs),
        ("FerretDB", build_ferretdb),
        ("kustomize", lambda: go_install(KUSTOMIZE)),
        ("kubeconform", lambda: go_install(KUBECONFORM)),
        ("Kubernetes schemas", kubernetes_schemas),
        ("docker compose", compose_command),
    ]
    for name, step in steps:
        started = time.monotonic()
        step()
        print(f"prefetch: {name} ready ({time.monotonic() - started:.1f} s)", flush=True)


if __name__ == "__main__":
    main()
