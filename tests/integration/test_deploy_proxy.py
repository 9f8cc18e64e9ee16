"""The proxy's routing table (deploy/proxy/nginx.conf) against the services' OpenAPI.

Each service's FastAPI app is built in-process, as `integrations serve` builds it (nothing
is started: no Kafka or MongoDB needed). Every public route of a service must reach that
service through the proxy; no /internal route, and none of the operational routes
(/healthz, /readyz, /metrics), may be reachable at all. nginx tries regex locations in file
order and the first match wins; this test evaluates the same regexes the same way.
"""

import itertools
import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from integrations.catalog import SERVICES
from integrations.crypto import KeyRing, Purpose, generate_root_key
from integrations.providers.registry import default_registry
from integrations.standalone import build_standalone_app

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
NGINX_CONF = ROOT / "deploy" / "proxy" / "nginx.conf"
PUBLIC_PREFIX = "/api/integrations"

# Values tried for the path parameters: every provider of the catalogue, and ids that are
# plain or equal to literal segments of other routes, so a rule that only works for "nice"
# ids is caught. Not "webhooks": `/{provider}/credentials/{id}` with provider "webhooks" and
# `/webhooks/{id}/deliveries` are the same path, an ambiguity of the API itself (no provider
# has that name; registering one would break the embedded app's routing too).
ID_SAMPLES = ("3f9c0c8e-5b1e-4c1a-9d1e-000000000001", "ingress", "login", "callback",
              "deliveries", "credentials", "sso_url")  # fmt: skip

_LOCATION = re.compile(r"^\s*location\s+(~\*?)\s+(\S+)\s*\{(.*?)\}", re.MULTILINE | re.DOTALL)
_SET_UPSTREAM = re.compile(r"^\s*set\s+\$(\w+)\s+https?://([\w.-]+):\d+\s*;", re.MULTILINE)


def routing_table() -> list[tuple[re.Pattern[str], str | None]]:
    """(regex, service) in file order; service None for a `return` (not forwarded)."""
    text = re.sub(r"#[^\n]*", "", NGINX_CONF.read_text())
    upstreams = dict(_SET_UPSTREAM.findall(text))
    table: list[tuple[re.Pattern[str], str | None]] = []
    for modifier, regex, body in _LOCATION.findall(text):
        flags = re.IGNORECASE if modifier == "~*" else 0
        proxy = re.search(r"proxy_pass\s+\$(\w+)\s*;", body)
        if proxy:
            service: str | None = upstreams[proxy.group(1)]
        elif re.search(r"\breturn\s+4\d\d\b", body):
            service = None
        else:
            raise AssertionError(f"location ~ {regex}: neither proxy_pass $VAR nor return 4xx")
        table.append((re.compile(regex, flags), service))
    assert table, f"no `location ~ REGEX` blocks found in {NGINX_CONF}"
    return table


def route(path: str) -> str | None:
    """The service nginx forwards PATH to; None when it answers itself (404)."""
    for regex, service in routing_table():
        if regex.search(path):
            return service
    # Only `location /` (404) and the exact `= /proxy-healthz` remain: nothing forwarded.
    return None


def concrete_paths(template: str) -> list[str]:
    names = re.findall(r"\{([^}]+)\}", template)
    samples = [PROVIDERS if name == "provider" else ID_SAMPLES for name in names]
    paths = []
    for values in itertools.product(*samples):
        path = template
        for name, value in zip(names, values, strict=True):
            path = path.replace("{" + name + "}", value, 1)
        paths.append(path)
    return paths


PROVIDERS = tuple(default_registry().names())


def _settings_for_building() -> dict[str, Any]:
    root = KeyRing([generate_root_key()])
    return {
        "jwt_secret": "j" * 32,
        "service_token": "s" * 32,
        "encryption_keys": root.export(),
        "webhook_secret_keys": root.derive(Purpose.WEBHOOK_SECRETS).export(),
        "transport_keys": root.derive(Purpose.TRANSPORT).export(),
        # Never contacted: the apps are built, not started.
        "database_url": "mongodb://127.0.0.1:9/?replicaSet=rs0",
        "kafka_bootstrap_servers": "127.0.0.1:9",
    }


@pytest.fixture(scope="module")
def openapi_paths() -> dict[str, list[str]]:
    """Every path of every service's OpenAPI document, by service name."""
    overrides = _settings_for_building()
    paths: dict[str, list[str]] = {}
    for name, definition in SERVICES.items():
        fields = definition.load_settings().__class__.model_fields
        app: FastAPI = build_standalone_app(
            definition, **{k: v for k, v in overrides.items() if k in fields}
        )
        paths[name] = sorted(app.openapi()["paths"])
    return paths


def test_the_services_have_public_routes(openapi_paths: dict[str, list[str]]) -> None:
    for service, paths in openapi_paths.items():
        assert any(p.startswith(PUBLIC_PREFIX + "/") for p in paths), service


def test_every_public_route_reaches_its_own_service(openapi_paths: dict[str, list[str]]) -> None:
    wrong = [
        f"{path} -> {route(path)} (owner {service})"
        for service, templates in openapi_paths.items()
        for template in templates
        if template.startswith(PUBLIC_PREFIX + "/")
        for path in concrete_paths(template)
        if route(path) != service
    ]
    assert not wrong, "misrouted by deploy/proxy/nginx.conf:\n" + "\n".join(wrong)


def test_no_internal_or_operational_route_is_reachable(
    openapi_paths: dict[str, list[str]],
) -> None:
    private = sorted(
        {t for templates in openapi_paths.values() for t in templates}
        - {
            t
            for templates in openapi_paths.values()
            for t in templates
            if t.startswith(PUBLIC_PREFIX + "/")
        }
    )
    assert any(p.startswith("/internal/") for p in private)  # the test sees them at all
    exposed = [
        f"{path} -> {route(path)}"
        for template in [*private, "/metrics", "/internal", "/docs", "/openapi.json"]
        for path in concrete_paths(template)
        if route(path) is not None
    ]
    assert not exposed, "private routes exposed by deploy/proxy/nginx.conf:\n" + "\n".join(exposed)


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/integrations/github/webhooks/abc/ingress", "ingress"),
        ("/api/integrations/webhooks/abc/deliveries", "dispatcher"),
        ("/api/integrations/github/login", "oauth"),
        ("/api/integrations/ayrshare/sso_url", "oauth"),
        ("/api/integrations/github/credentials", "credentials"),
        ("/api/integrations", "credentials"),
        ("/api/integrationsX/github/login", None),
        ("/internal/webhooks/abc", None),
        ("/healthz", None),
    ],
)
def test_the_table_as_parsed(path: str, service: str | None) -> None:
    # Guards the parser itself: a table parsed as empty or in the wrong order fails here.
    assert route(path) == service
