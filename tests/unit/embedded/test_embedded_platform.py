"""The embedded default: four services on one port, data and dev secrets kept across restarts."""

from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from integrations.auth import issue_dev_token
from integrations.embedded.app import build_embedded_platform
from integrations.embedded.dev_secrets import FILE_NAME, load_or_create

pytestmark = pytest.mark.unit


async def get(platform_dir: Path, path: str, token: str | None = None) -> httpx.Response:
    platform = build_embedded_platform(platform_dir)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with (
        LifespanManager(platform.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=platform.app), base_url="http://test"
        ) as client,
    ):
        return await client.get(path, headers=headers)


async def test_serves_readiness_of_every_service_on_one_port(tmp_path: Path) -> None:
    response = await get(tmp_path, "/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert {name.split(".")[0] for name in checks} >= {
        "bus",
        "ingress",
        "credentials",
        "oauth",
        "dispatcher",
    }
    assert all(checks.values())


async def test_serves_the_provider_list(tmp_path: Path) -> None:
    """SPEC RT-13"""
    response = await get(tmp_path, "/api/integrations/providers")
    assert response.status_code == 200
    assert {"github", "google", "notion", "ollama"} <= set(response.json())


async def test_each_service_gets_its_own_store_file(tmp_path: Path) -> None:
    await get(tmp_path, "/readyz")
    assert {p.name for p in tmp_path.glob("*.db")} >= {
        "credentials.db",
        "oauth.db",
        "dispatcher.db",
    }


async def test_dev_secrets_are_created_once_private_and_kept_across_restarts(
    tmp_path: Path,
) -> None:
    await get(tmp_path, "/healthz")
    secrets_file = tmp_path / FILE_NAME
    assert secrets_file.stat().st_mode & 0o777 == 0o600
    first = secrets_file.read_text()
    token = issue_dev_token(load_or_create(tmp_path).jwt_secret, "user-1")
    response = await get(tmp_path, "/api/integrations/providers/system", token)
    assert response.status_code == 200
    assert secrets_file.read_text() == first


def test_dev_secrets_never_show_in_their_repr(tmp_path: Path) -> None:
    secrets = load_or_create(tmp_path)
    assert secrets.jwt_secret not in repr(secrets)
    assert secrets.service_token not in repr(secrets)


async def test_a_credential_created_through_the_api_survives_a_restart(tmp_path: Path) -> None:
    """The credentials service's data lives in the embedded store, encrypted under the dev
    key ring, and both are kept: build the platform twice on the same data folder."""
    secret_key = "sk-restart-test-marker-0123456789"
    token = issue_dev_token(load_or_create(tmp_path).jwt_secret, "user-1")
    headers = {"Authorization": f"Bearer {token}"}
    credentials = {"id": "kept-1", "type": "api_key", "provider": "openai", "api_key": secret_key}

    first = build_embedded_platform(tmp_path)
    async with (
        LifespanManager(first.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=first.app), base_url="http://test"
        ) as client,
    ):
        created = await client.post(
            "/api/integrations/openai/credentials", json=credentials, headers=headers
        )
        assert created.status_code == 201

    response = await get(tmp_path, "/api/integrations/openai/credentials/kept-1", token)
    assert response.status_code == 200
    assert response.json()["id"] == "kept-1"
    assert secret_key not in response.text
    service_token = load_or_create(tmp_path).service_token
    revealed = await get(tmp_path, "/internal/users/user-1/credentials/kept-1", service_token)
    assert revealed.json()["api_key"] == secret_key
    stored = b"".join(path.read_bytes() for path in tmp_path.glob("credentials.db*"))
    assert secret_key.encode() not in stored
