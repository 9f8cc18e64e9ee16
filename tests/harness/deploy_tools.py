"""Tools the deployment checks run: docker compose, kustomize, kubeconform, K8s schemas.

Everything is fetched from package registries and cached under
``$XDG_CACHE_HOME/integrations-test/deploy-tools/`` (``~/.cache`` by default), so only the
first run pays for it:

- kustomize and kubeconform: ``go install`` from the Go module proxy.
- docker compose: the ``docker compose`` plugin when the docker client has it; otherwise
  Compose v2 itself, ``go install``-ed from the Go module proxy and run standalone (the
  same ``config`` code as the plugin). Neither available: the check fails, never skips.
- Kubernetes JSON Schemas: kubeconform downloads them from GitHub by default, which CI
  cannot reach. The PyPI package ``kubernetes-validate`` ships the schemas of every
  Kubernetes minor since 1.25 in its wheel; the wheel is fetched with pip (not installed:
  no dev dependency) and one version's strict schemas are unpacked. Their ``$ref``s point
  at ``/api/_definitions.json``, a path that package resolves itself; they are rewritten to
  the unpacked file's ``file://`` URL, which kubeconform's validator loads.
"""

import contextlib
import fcntl
import os
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from tests.harness.mongo import cache_dir

KUBECONFORM: Final = ("github.com/yannh/kubeconform/cmd/kubeconform", "v0.6.7", "kubeconform")
KUSTOMIZE: Final = ("sigs.k8s.io/kustomize/kustomize/v5", "v5.5.0", "kustomize")
# The module's main package is `cmd`, so `go install` names the binary `cmd`.
COMPOSE: Final = ("github.com/docker/compose/v2/cmd", "v2.29.7", "cmd")

KUBERNETES_VALIDATE_VERSION: Final = "1.37.0"
"""The PyPI package whose wheel carries the schemas."""
KUBERNETES_VERSION: Final = "1.32.0"
"""The Kubernetes API the manifests are validated against (oldest minor we support)."""

INSTALL_TIMEOUT_S: Final = 900.0


class DeployToolError(RuntimeError):
    """A tool could not be found or installed (the message says what to do)."""


def tools_dir() -> Path:
    return cache_dir() / "deploy-tools"


@contextlib.contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _go() -> str:
    found = shutil.which("go")
    if found:
        return found
    for candidate in (Path("/usr/local/go/bin/go"), Path.home() / "go" / "bin" / "go"):
        if candidate.is_file():
            return str(candidate)
    raise DeployToolError(
        "the Go toolchain (`go`) is needed to install the deployment checks' tools "
        "(kustomize, kubeconform, docker compose) from the Go module proxy; install Go"
    )


def _run_logged(cmd: list[str], env: dict[str, str], log: Path, what: str) -> None:
    log.parent.mkdir(parents=True, exist_ok=True)
    for attempt in (1, 2):  # the proxy sometimes fails for a moment: retry once
        with log.open("ab") as out:
            out.write(f"=== attempt {attempt}: $ {' '.join(cmd)}\n".encode())
            out.flush()
            try:
                result = subprocess.run(
                    cmd,
                    env=env,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    timeout=INSTALL_TIMEOUT_S,
                    check=False,
                )
            except subprocess.TimeoutExpired:
                raise DeployToolError(
                    f"{what} took over {INSTALL_TIMEOUT_S:.0f} s; log {log}"
                ) from None
        if result.returncode == 0:
            return
    tail = log.read_text(errors="replace")[-3000:]
    raise DeployToolError(f"{what} failed (exit {result.returncode}); log {log}:\n{tail}")


def go_install(tool: tuple[str, str, str]) -> Path:
    """``go install PACKAGE@VERSION`` into the cache, once; the binary's path."""
    package, version, binary_name = tool
    out_dir = tools_dir() / f"{package.replace('/', '_')}@{version}"
    binary = out_dir / binary_name
    if binary.is_file():
        return binary
    with _file_lock(out_dir.with_name(out_dir.name + ".lock")):
        if binary.is_file():
            return binary
        partial = out_dir.with_name(out_dir.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        env = dict(os.environ)
        env["GOBIN"] = str(partial)
        env["GOFLAGS"] = "-buildvcs=false"
        env.setdefault("GOCACHE", str(cache_dir() / "go-build"))
        if "HOME" not in env and "GOPATH" not in env:
            env.setdefault("GOMODCACHE", str(cache_dir() / "go-mod"))
        _run_logged(
            [_go(), "install", "-trimpath", f"{package}@{version}"],
            env,
            out_dir.with_name(out_dir.name + ".log"),
            f"go install {package}@{version}",
        )
        partial.replace(out_dir)
    return binary


def _docker_compose_plugin() -> list[str] | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    probe = subprocess.run(
        [docker, "compose", "version"],
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )
    return [docker, "compose"] if probe.returncode == 0 else None


def compose_command() -> list[str]:
    """The command that runs Compose: ``docker compose`` or the cached standalone build."""
    plugin = _docker_compose_plugin()
    if plugin is not None:
        return plugin
    try:
        return [str(go_install(COMPOSE))]
    except DeployToolError as exc:
        raise DeployToolError(
            "docker compose is not available: `docker compose version` fails (no docker "
            f"client or no compose plugin) and Compose could not be built instead: {exc}"
        ) from exc


def kubernetes_schemas() -> Path:
    """A directory of strict JSON Schemas, one ``KIND-GROUP-VERSION.json`` per kind."""
    name = f"v{KUBERNETES_VERSION}-local-strict"
    out_dir = tools_dir() / f"kubernetes-validate-{KUBERNETES_VALIDATE_VERSION}" / name
    if (out_dir / "_definitions.json").is_file():
        return out_dir
    with _file_lock(out_dir.with_name(out_dir.name + ".lock")):
        if (out_dir / "_definitions.json").is_file():
            return out_dir
        download = out_dir.parent / "wheel"
        wheels = sorted(download.glob("kubernetes_validate-*.whl"))
        if not wheels:
            _run_logged(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    "--only-binary=:all:",
                    "--dest",
                    str(download),
                    f"kubernetes-validate=={KUBERNETES_VALIDATE_VERSION}",
                ],
                dict(os.environ),
                out_dir.parent / "download.log",
                "downloading the kubernetes-validate wheel (Kubernetes JSON Schemas) with pip",
            )
            wheels = sorted(download.glob("kubernetes_validate-*.whl"))
        if not wheels:
            raise DeployToolError(f"pip downloaded no kubernetes-validate wheel into {download}")
        partial = out_dir.with_name(out_dir.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        prefix = f"kubernetes_validate/kubernetes-json-schema/{name}/"
        definitions_url = f'"{(out_dir / "_definitions.json").as_uri()}#'
        with zipfile.ZipFile(wheels[-1]) as wheel:
            members = [m for m in wheel.namelist() if m.startswith(prefix) and m.endswith(".json")]
            if not members:
                raise DeployToolError(f"{wheels[-1].name} has no schemas for {name}")
            for member in members:
                text = wheel.read(member).decode()
                text = text.replace('"/api/_definitions.json#', definitions_url)
                (partial / member.removeprefix(prefix)).write_text(text)
        partial.replace(out_dir)
    return out_dir
