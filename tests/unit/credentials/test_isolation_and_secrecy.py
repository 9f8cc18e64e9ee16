"""Tenant isolation (DESIGN §6: another user's id gets the same 404 as a missing one) and
secrecy (SPEC RT-14, DESIGN §6: no secret in any response body, event or log line)."""

import logging
from typing import Any, cast

import httpx
import pytest

from integrations.bus import InMemoryBus
from integrations.credentials.domain.credentials import Credentials
from integrations.credentials.domain.ports import CredentialsRepository
from integrations.storage import Database, StorageUnavailable
from tests.unit.credentials.kit import (
    ALICE,
    BOB,
    MARK,
    OPENAI_SYSTEM_ID,
    OPENAI_SYSTEM_KEY,
    SERVICE_HEADERS,
    api_key,
    body,
    every_kind,
    http_client,
    make_context,
    oauth2,
    raw_events,
    user_headers,
)

pytestmark = pytest.mark.unit

API = "/api/integrations"
AS_ALICE = user_headers(ALICE)
AS_BOB = user_headers(BOB)


async def test_another_users_credentials_are_404_on_every_route(
    client: httpx.AsyncClient,
) -> None:
    for credentials in every_kind():
        url = f"{API}/{credentials.provider}/credentials"
        assert (await client.post(url, json=body(credentials), headers=AS_ALICE)).is_success
    for credentials in every_kind():
        one = f"{API}/{credentials.provider}/credentials/{credentials.id}"
        missing = f"{API}/{credentials.provider}/credentials/never-made"
        attempts: list[tuple[str, dict[str, Any]]] = [
            ("GET", {}),
            ("PUT", {"json": body(credentials)}),
            ("DELETE", {}),
            ("DELETE", {"params": {"force": "true"}}),
        ]
        for method, kwargs in attempts:
            theirs = await client.request(method, one, headers=AS_BOB, **kwargs)
            absent = await client.request(method, missing, headers=AS_BOB, **kwargs)
            assert theirs.status_code == absent.status_code == 404, (method, one)
            assert theirs.json() == absent.json()
        internal = f"/internal/users/{BOB}/credentials/{credentials.id}"
        assert (await client.get(internal, headers=SERVICE_HEADERS)).status_code == 404
    listed = await client.get(f"{API}/credentials", headers=AS_BOB)
    assert not {c["id"] for c in listed.json()} & {c.id for c in every_kind()}
    batch = await client.get(
        f"/internal/users/{BOB}/credentials",
        params={"ids": "gh-1,oa-1"},
        headers=SERVICE_HEADERS,
    )
    assert batch.json() == {"credentials": [], "missing": ["gh-1", "oa-1"]}
    # Alice's are untouched by all of Bob's attempts.
    mine = await client.get(f"{API}/credentials", headers=AS_ALICE)
    assert {c.id for c in every_kind()} <= {c["id"] for c in mine.json()}


async def test_the_same_credential_id_can_belong_to_two_users(
    client: httpx.AsyncClient,
) -> None:
    """Ids never collide across users: each has its own `gh-1`."""
    for headers in (AS_ALICE, AS_BOB):
        response = await client.post(
            f"{API}/github/credentials", json=body(oauth2()), headers=headers
        )
        assert response.status_code == 201
    deleted = await client.delete(f"{API}/github/credentials/gh-1", headers=AS_BOB)
    assert deleted.status_code == 200
    alices = await client.get(f"{API}/github/credentials/gh-1", headers=AS_ALICE)
    assert alices.status_code == 200


async def test_no_secret_in_any_response_body_event_or_log_line(
    client: httpx.AsyncClient, bus: InMemoryBus, caplog: pytest.LogCaptureFixture
) -> None:
    """SPEC RT-14; DESIGN §6. Everything the user routes answer, every event and every log
    record of a full lifecycle is scanned for the marker every secret carries."""
    caplog.set_level(logging.DEBUG)
    bodies: list[str] = []

    async def call(method: str, url: str, **kwargs: Any) -> httpx.Response:
        response = await client.request(method, url, headers=AS_ALICE, **kwargs)
        bodies.append(response.text)
        return response

    for credentials in every_kind():
        base = f"{API}/{credentials.provider}/credentials"
        await call("POST", base, json=body(credentials))
        await call("POST", base, json=body(credentials))  # 409
        await call("GET", base)
        await call("GET", f"{base}/{credentials.id}")
        await call("PUT", f"{base}/{credentials.id}", json=body(credentials))
        await call("PUT", f"{base}/other", json=body(credentials))  # 404
        await call("POST", base, json=body(credentials) | {"bogus": MARK})  # 422
        await call("DELETE", f"{base}/{credentials.id}")
    await call("GET", f"{API}/credentials")
    await call("GET", f"{API}/openai/credentials/{api_key().id}")

    assert all(MARK not in text for text in bodies)
    assert all(MARK.encode() not in value for value in raw_events(bus))
    assert {"credentials created", "credentials deleted"} <= {
        r.getMessage() for r in caplog.records
    }
    for record in caplog.records:
        assert MARK not in record.getMessage()
        assert MARK not in str(record.__dict__)
    assert MARK not in caplog.text


async def test_the_internal_route_needs_the_service_token(client: httpx.AsyncClient) -> None:
    url = f"/internal/users/{ALICE}/credentials/oa-1"
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=AS_ALICE)).status_code == 403


async def test_the_internal_route_reveals_secrets_and_forbids_caching(
    client: httpx.AsyncClient,
) -> None:
    """For the executor (SPEC CM-1's get, without refresh yet)."""
    await client.post(f"{API}/github/credentials", json=body(oauth2()), headers=AS_ALICE)
    response = await client.get(
        f"/internal/users/{ALICE}/credentials/gh-1", headers=SERVICE_HEADERS
    )
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == body(oauth2())


async def test_the_internal_batch_answers_found_and_missing(client: httpx.AsyncClient) -> None:
    """SPEC CM-5: several at once, in the order asked; system credentials included."""
    for credentials in every_kind():
        url = f"{API}/{credentials.provider}/credentials"
        await client.post(url, json=body(credentials), headers=AS_ALICE)
    response = await client.get(
        f"/internal/users/{ALICE}/credentials",
        params={"ids": f"hs-1, nope,{OPENAI_SYSTEM_ID},gh-1,hs-1"},
        headers=SERVICE_HEADERS,
    )
    assert response.status_code == 200
    answered = response.json()
    assert [c["id"] for c in answered["credentials"]] == ["hs-1", OPENAI_SYSTEM_ID, "gh-1"]
    assert answered["credentials"][1]["api_key"] == OPENAI_SYSTEM_KEY
    assert answered["missing"] == ["nope"]


async def test_the_internal_batch_refuses_too_many_ids(client: httpx.AsyncClient) -> None:
    ids = ",".join(f"id-{n}" for n in range(101))
    response = await client.get(
        f"/internal/users/{ALICE}/credentials", params={"ids": ids}, headers=SERVICE_HEADERS
    )
    assert response.status_code == 422


class UnavailableRepository:
    """Every call fails the way an unreachable MongoDB does."""

    def __getattr__(self, name: str) -> object:
        async def fail(*args: object, **kwargs: object) -> None:
            raise StorageUnavailable("no server")

        return fail


async def test_storage_failure_answers_503(database: Database, bus: InMemoryBus) -> None:
    """RT-5's storage failure, as the host maps it: 503 with Retry-After, nothing leaked."""
    repository = cast(CredentialsRepository, UnavailableRepository())
    ctx = make_context(database, bus, repository=repository)
    credentials: Credentials = api_key()
    async with http_client(ctx, bus) as client:
        response = await client.post(
            f"{API}/openai/credentials", json=body(credentials), headers=AS_ALICE
        )
    assert response.status_code == 503
    assert response.headers["retry-after"] == "5"
    assert MARK not in response.text
