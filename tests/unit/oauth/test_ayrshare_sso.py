"""`GET /ayrshare/sso_url` against a local Ayrshare stand-in, for every status of SPEC RT-12."""

import asyncio
from datetime import datetime, timedelta

import httpx
import pytest

from .kit import SERVICE_TOKEN, bearer, running_service

pytestmark = pytest.mark.unit

URL = "/api/integrations/ayrshare/sso_url"
PROFILE = ("user-1", "ayrshare_profile_key")


async def test_a_first_visit_creates_a_profile_stores_its_key_and_answers_a_48h_url() -> None:
    """SPEC RT-12, CS-7."""
    async with running_service() as service:
        before = datetime.now().astimezone()
        response = await service.client.get(URL, headers=bearer("user-1"))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sso_url"].startswith("https://profile.ayrshare.test/")
    expires_at = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=47, minutes=59) < expires_at - before <= timedelta(hours=48, minutes=1)
    assert service.managed.secrets == {PROFILE: "pk-1"}
    (step, profile), (_, jwt) = service.ayrshare.calls
    assert step == "profiles"
    assert profile == {"title": "User user-1", "messagingActive": True}
    assert jwt["profileKey"] == "pk-1"
    assert jwt["allowedSocial"] == ["twitter", "linkedin", "instagram", "youtube", "tiktok"]
    assert jwt["expiresIn"] == 48 * 60
    assert jwt["domain"] == "id-test"
    assert jwt["privateKey"].startswith("-----BEGIN PRIVATE KEY-----")


async def test_a_stored_profile_key_is_reused() -> None:
    async with running_service() as service:
        service.managed.secrets[PROFILE] = "pk-existing"
        response = await service.client.get(URL, headers=bearer("user-1"))

    assert response.status_code == 200
    assert [step for step, _ in service.ayrshare.calls] == ["generateJWT"]
    assert service.ayrshare.calls[0][1]["profileKey"] == "pk-existing"
    assert all(r.method == "GET" for r in service.managed.requests)


async def test_concurrent_first_visits_create_one_profile() -> None:
    async with running_service() as service:
        responses = await asyncio.gather(
            *(service.client.get(URL, headers=bearer("user-1")) for _ in range(3))
        )

    assert [r.status_code for r in responses] == [200, 200, 200]
    assert [step for step, _ in service.ayrshare.calls].count("profiles") == 1


@pytest.mark.parametrize("missing", ["ayrshare_api_key", "ayrshare_jwt_key", "ayrshare_domain"])
async def test_without_configuration_it_is_a_500(missing: str) -> None:
    """SPEC RT-12: not configured → 500."""
    async with running_service(**{missing: None}) as service:
        response = await service.client.get(URL, headers=bearer("user-1"))

    assert response.status_code == 500
    assert response.json()["error"]["message"] == "Ayrshare integration is not configured."
    assert service.ayrshare.calls == []


@pytest.mark.parametrize("status", [400, 401, 500, 503])
async def test_a_failed_profile_creation_is_a_502(status: int) -> None:
    """SPEC RT-12: upstream failure → 502; nothing is stored."""
    async with running_service() as service:
        service.ayrshare.fail_profile = status
        response = await service.client.get(URL, headers=bearer("user-1"))

    assert response.status_code == 502
    assert response.json()["error"]["message"] == "Failed to create Ayrshare profile."
    assert service.managed.secrets == {}


@pytest.mark.parametrize("status", [400, 500])
async def test_a_failed_jwt_generation_is_a_502(status: int) -> None:
    """SPEC RT-12: upstream failure → 502; the new profile key is kept for next time."""
    async with running_service() as service:
        service.ayrshare.fail_jwt = status
        response = await service.client.get(URL, headers=bearer("user-1"))

    assert response.status_code == 502
    assert response.json()["error"]["message"] == "Failed to generate JWT."
    assert service.managed.secrets == {PROFILE: "pk-1"}


async def test_an_unreachable_ayrshare_is_a_502() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    async with running_service(ayrshare_transport=httpx.MockTransport(refuse)) as service:
        response = await service.client.get(URL, headers=bearer("user-1"))

    assert response.status_code == 502


async def test_an_unavailable_credentials_service_is_a_503_to_retry() -> None:
    async with running_service() as service:
        service.managed.status = 500
        response = await service.client.get(URL, headers=bearer("user-1"))

    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert service.ayrshare.calls == []
    assert SERVICE_TOKEN not in response.text


async def test_ayrshare_secrets_never_reach_the_answer() -> None:
    """SPEC RT-14."""
    async with running_service() as service:
        service.ayrshare.fail_jwt = 500
        response = await service.client.get(URL, headers=bearer("user-1"))

    assert "ayr-api-key" not in response.text
    assert "PRIVATE KEY" not in response.text
