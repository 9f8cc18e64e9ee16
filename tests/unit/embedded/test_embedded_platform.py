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
