"""Compose the four services into one app: one in-memory bus, one SQLite file per service."""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from integrations.bus import InMemoryBus
from integrations.catalog import SERVICES
from integrations.crypto import KeyRing, Purpose
from integrations.embedded.dev_secrets import DevSecrets, load_or_create
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from integrations.runtime.settings import CommonSettings
from integrations.runtime.version import VERSION
from integrations.telemetry import configure_telemetry


@dataclass(frozen=True)
class EmbeddedPlatform:
    app: FastAPI
    secrets: DevSecrets
    base_url: str
    # Exposed for tests that follow a record through the platform (traces, headers).
    bus: InMemoryBus


def service_overrides(
    name: str, data_dir: Path, base_url: str, secrets: DevSecrets
) -> dict[str, Any]:
    """The settings the embedded host gives service `name` (also used to document its API)."""
    ring = KeyRing.parse(secrets.key_ring)
    # Every service gets only the keys it needs, exactly as in a deployment.
    per_service: dict[str, dict[str, Any]] = {
        "credentials": {"encryption_keys": secrets.key_ring},
        "ingress": {
            "webhook_secret_keys": ring.derive(Purpose.WEBHOOK_SECRETS).export(),
            "credentials_internal_url": base_url,
        },
        "oauth": {
            "transport_keys": ring.derive(Purpose.TRANSPORT).export(),
            "credentials_internal_url": base_url,
        },
    }
    return {
        "database_url": f"sqlite:///{(data_dir / f'{name}.db').resolve()}",
        "jwt_secret": secrets.jwt_secret,
        "service_token": secrets.service_token,
        "platform_base_url": base_url,
        # A developer reads these logs in a terminal; LOG_FORMAT=json still wins.
        "log_format": os.environ.get("LOG_FORMAT", "text"),
        **per_service.get(name, {}),
    }


def build_embedded_platform(
    data_dir: Path, *, host: str = "127.0.0.1", port: int = 8000
) -> EmbeddedPlatform:
    secrets = load_or_create(data_dir)
    base_url = f"http://{host}:{port}"
    bus = InMemoryBus()
    units = []
    dependencies = []
    settings: CommonSettings | None = None
    for name, service in SERVICES.items():
        settings = service.load_settings(**service_overrides(name, data_dir, base_url, secrets))
        deps = Dependencies(bus, settings.database_url)
        units.append(service.build(settings, deps))
        dependencies.append(deps)
    assert settings is not None
    configure_telemetry(settings.telemetry("integrations-embedded"))
    app = host_units(
        units,
        title="Integrations platform (embedded)",
        version=VERSION,
        bus=bus,
        auth=settings.auth_config(),
        closers=[deps.close for deps in dependencies],
    )
    return EmbeddedPlatform(app=app, secrets=secrets, base_url=base_url, bus=bus)
