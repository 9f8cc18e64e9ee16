"""The generated API documents kept in docs/: each service's OpenAPI and the AsyncAPI of
every topic (with the JSON Schema of every message). A test regenerates them and fails on
drift, so the documents always say what the code serves."""

import asyncio
import tempfile
from pathlib import Path
from typing import Any

from integrations.bus import InMemoryBus
from integrations.catalog import SERVICES
from integrations.contracts.schemas import render_json, write_schemas
from integrations.embedded.app import service_overrides
from integrations.embedded.dev_secrets import generate
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from integrations.runtime.version import VERSION

OPENAPI_FOLDER = "openapi"
SCHEMAS_FOLDER = "schemas"


def service_openapi(name: str) -> dict[str, Any]:
    """Service `name`'s OpenAPI document, built from its real composition (nothing starts:
    building routes connects to nothing)."""
    service = SERVICES[name]
    with tempfile.TemporaryDirectory() as data_dir:
        overrides = service_overrides(name, Path(data_dir), "http://127.0.0.1:8000", generate())
        settings = service.load_settings(**overrides)
        bus = InMemoryBus()
        deps = Dependencies(bus, settings.database_url)
        unit = service.build(settings, deps)
        app = host_units(
            [unit],
            title=f"Integrations {name} service",
            version=VERSION,
            bus=bus,
            auth=settings.auth_config(),
        )
        document = app.openapi()
        asyncio.run(deps.close())
    return document


def write_api_documents(docs: Path) -> list[Path]:
    written = write_schemas(docs / SCHEMAS_FOLDER)
    folder = docs / OPENAPI_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    for name in SERVICES:
        path = folder / f"{name}.json"
        path.write_text(render_json(service_openapi(name)))
        written.append(path)
    return written
