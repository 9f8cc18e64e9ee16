"""Secrets the embedded default makes for itself on first run and keeps across restarts.

Stored as a 0600 JSON file in the data folder. They are for a developer's machine only: a
deployment passes real secrets through its environment.
"""

import json
import os
import secrets
from dataclasses import asdict, dataclass
from pathlib import Path

from integrations.crypto import KeyRing, generate_root_key

FILE_NAME = "dev-secrets.json"


@dataclass(frozen=True)
class DevSecrets:
    jwt_secret: str
    key_ring: str
    service_token: str

    def __repr__(self) -> str:
        return "DevSecrets(<hidden>)"


def generate() -> DevSecrets:
    return DevSecrets(
        jwt_secret=secrets.token_urlsafe(48),
        key_ring=KeyRing([generate_root_key()]).export(),
        service_token=secrets.token_urlsafe(32),
    )


def load_or_create(data_dir: Path) -> DevSecrets:
    path = data_dir / FILE_NAME
    if path.exists():
        return DevSecrets(**json.loads(path.read_text()))
    data_dir.mkdir(parents=True, exist_ok=True)
    created = generate()
    staging = data_dir / f".{FILE_NAME}.{os.getpid()}"
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(asdict(created), handle)
    # link() is atomic and fails if the file exists: when two processes start at once, one
    # set of secrets wins and both use it, and nobody ever reads a half-written file.
    try:
        os.link(staging, path)
    except FileExistsError:
        return DevSecrets(**json.loads(path.read_text()))
    finally:
        staging.unlink()
    return created
