"""The user routes over HTTP (ASGI, in process), hosted as in production: every RT-3..RT-6
status and shape, the update route, and the error shape."""

from typing import Any

import httpx
import pytest

from integrations.bus import InMemoryBus
from integrations.contracts import CredentialsCreated, CredentialsDeleted, CredentialsUpdated
from integrations.credentials.context import CredentialsContext
from integrations.credentials.domain.credentials import Credentials
from tests.unit.credentials.kit import (
    ALICE,
    MARK,
    OLLAMA_SYSTEM_ID,
    OPENAI_SYSTEM_ID,
    FakeRevoker,
    FakeWebhooks,
    api_key,
    body,
    every_kind,
    oauth2,
    published,
    user_headers,
    user_password,
)

pytestmark = pytest.mark.unit

API = "/api/integrations"
MASK = "**********"
AS_ALICE = user_headers(ALICE)


async def create(client: httpx.AsyncClient, credentials: Credentials) -> httpx.Response:
    return await client.post(
        f"{API}/{credentials.provider}/credentials", json=body(credentials), headers=AS_ALICE
    )


async def created(client: httpx.AsyncClient, *kinds: Credentials) -> None:
    for credentials in kinds or every_kind():
        response = await create(client, credentials)
        assert response.status_code == 201, response.text


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


# POST (SPEC RT-5, CS-3)


@pytest.mark.parametrize("credentials", every_kind(), ids=lambda c: c.type)
async def test_create_answers_201_with_every_secret_masked(
    client: httpx.AsyncClient, credentials: Credentials
) -> None:
    """SPEC RT-5, RT-4"""
    response = await create(client, credentials)
    assert response.status_code == 201
    assert MARK not in response.text
    answered = response.json()
    assert answered["id"] == credentials.id
    assert answered["type"] == credentials.type
    masked = {k: v for k, v in answered.items() if MASK in str(v)}
    assert masked, "a created credential shows its secret fields, masked"


async def test_create_takes_the_provider_from_the_path(
    client: httpx.AsyncClient, bus: InMemoryBus
) -> None:
    """SPEC RT-5"""
    sent = body(api_key()) | {"provider": "anthropic"}
    response = await client.post(f"{API}/openai/credentials", json=sent, headers=AS_ALICE)
    assert response.status_code == 201
    assert response.json()["provider"] == "openai"
    listed = await client.get(f"{API}/openai/credentials", headers=AS_ALICE)
    assert "oa-1" in {c["id"] for c in listed.json()}


async def test_create_publishes_credentials_created_with_metadata_only(
    client: httpx.AsyncClient, bus: InMemoryBus
) -> None:
    await created(client, oauth2())
    [event] = published(bus)
    assert isinstance(event, CredentialsCreated)
    assert (event.user_id, event.credentials_id, event.provider) == (ALICE, "gh-1", "github")
    assert event.credentials_type == "oauth2"
    assert event.scopes == ["repo", "read:user"]
    assert event.username == "octocat"
    assert event.expires_at is not None
    assert event.expires_at.timestamp() == 2_000_000_000
    assert MARK not in event.model_dump_json()


async def test_create_refuses_an_invalid_body_with_422_without_echoing_it(
    client: httpx.AsyncClient,
) -> None:
    """SPEC RT-5, RT-14"""
    sent = {"type": "api_key", "provider": "openai", "api_key": f"key-{MARK}", "bogus": 1}
    response = await client.post(f"{API}/openai/credentials", json=sent, headers=AS_ALICE)
    assert response.status_code == 422
    assert error_code(response) == "invalid_request"
    assert MARK not in response.text


async def test_create_refuses_a_credential_of_unknown_type_with_422(
    client: httpx.AsyncClient,
) -> None:
    sent = {"type": "magic", "provider": "openai"}
    response = await client.post(f"{API}/openai/credentials", json=sent, headers=AS_ALICE)
    assert response.status_code == 422


async def test_create_refuses_system_credential_ids_with_403(client: httpx.AsyncClient) -> None:
    """SPEC RT-5, CS-2"""
    response = await create(client, api_key(OPENAI_SYSTEM_ID))
    assert response.status_code == 403
    assert error_code(response) == "forbidden"


async def test_create_refuses_an_id_the_user_already_has_with_409(
    client: httpx.AsyncClient, bus: InMemoryBus
) -> None:
    """SPEC CS-3"""
    await created(client, api_key())
    response = await create(client, api_key(title="again"))
    assert response.status_code == 409
    assert len(published(bus)) == 1


async def test_create_for_an_unknown_provider_is_404(client: httpx.AsyncClient) -> None:
    sent = body(api_key()) | {"provider": "nope"}
    response = await client.post(f"{API}/nope/credentials", json=sent, headers=AS_ALICE)
    assert response.status_code == 404


async def test_routes_need_a_bearer_token(client: httpx.AsyncClient) -> None:
    assert (await client.get(f"{API}/credentials")).status_code == 401
    assert (await client.post(f"{API}/openai/credentials", json={})).status_code == 401


# GET lists (SPEC RT-3, CS-2, CS-4)


def _meta(**fields: Any) -> dict[str, Any]:
    return {"scopes": None, "username": None, "host": None} | fields


async def test_list_shows_metadata_of_own_and_system_credentials(
    client: httpx.AsyncClient,
) -> None:
    """SPEC RT-3, CS-2, CS-4: scopes/username for oauth2 only, host for host_scoped only."""
    await created(client)
    response = await client.get(f"{API}/credentials", headers=AS_ALICE)
    assert response.status_code == 200
    assert response.json() == [
        _meta(
            id="gh-1",
            provider="github",
            type="oauth2",
            title="My GitHub",
            scopes=["repo", "read:user"],
            username="octocat",
        ),
        _meta(id="oa-1", provider="openai", type="api_key", title="My OpenAI key"),
        _meta(id="up-1", provider="webshare_proxy", type="user_password", title="Proxy"),
        _meta(
            id="hs-1",
            provider="http",
            type="host_scoped",
            title="Internal API",
            host="api.example.com",
        ),
        _meta(
            id=OLLAMA_SYSTEM_ID, provider="ollama", type="api_key", title="Use Credits for Ollama"
        ),
        _meta(
            id=OPENAI_SYSTEM_ID, provider="openai", type="api_key", title="Use Credits for OpenAI"
        ),
    ]


async def test_list_by_provider_shows_only_that_providers_credentials(
    client: httpx.AsyncClient,
) -> None:
    """SPEC RT-3, CS-4"""
    await created(client)
    response = await client.get(f"{API}/openai/credentials", headers=AS_ALICE)
    assert [c["id"] for c in response.json()] == ["oa-1", OPENAI_SYSTEM_ID]
    none = await client.get(f"{API}/notion/credentials", headers=AS_ALICE)
    assert none.json() == []


# GET one (SPEC RT-4)


@pytest.mark.parametrize("credentials", every_kind(), ids=lambda c: c.type)
async def test_get_masks_every_secret(client: httpx.AsyncClient, credentials: Credentials) -> None:
    """SPEC RT-4"""
    await created(client, credentials)
    response = await client.get(
        f"{API}/{credentials.provider}/credentials/{credentials.id}", headers=AS_ALICE
    )
    assert response.status_code == 200
    assert MARK not in response.text
    expected = body(credentials)
    answered = response.json()
    for name, value in answered.items():
        if isinstance(value, str) and MARK in str(expected[name]):
            assert value == MASK
    if credentials.type == "host_scoped":
        assert answered["headers"] == {"Authorization": MASK, "X-Api.Key": MASK}


async def test_get_shows_a_system_credential_masked(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/openai/credentials/{OPENAI_SYSTEM_ID}", headers=AS_ALICE)
    assert response.status_code == 200
    assert response.json()["api_key"] == MASK
    assert MARK not in response.text


async def test_get_of_a_missing_or_another_providers_credential_is_404(
    client: httpx.AsyncClient,
) -> None:
    """SPEC RT-4"""
    await created(client, api_key())
    missing = await client.get(f"{API}/openai/credentials/nope", headers=AS_ALICE)
    other_provider = await client.get(f"{API}/anthropic/credentials/oa-1", headers=AS_ALICE)
    assert missing.status_code == other_provider.status_code == 404
    assert missing.json() == other_provider.json()


# PUT (SPEC CS-5)


async def test_update_replaces_the_credential_and_publishes_credentials_updated(
    client: httpx.AsyncClient, bus: InMemoryBus
) -> None:
    await created(client, oauth2())
    changed = oauth2(title="Renamed", scopes=["repo", "read:user", "gist"])
    response = await client.put(
        f"{API}/github/credentials/gh-1", json=body(changed), headers=AS_ALICE
    )
    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"
    assert MARK not in response.text
    event = published(bus)[-1]
    assert isinstance(event, CredentialsUpdated)
    assert event.scopes == ["repo", "read:user", "gist"]


async def test_update_takes_id_and_provider_from_the_path(client: httpx.AsyncClient) -> None:
    await created(client, api_key())
    sent = body(api_key("other-id", title="Renamed")) | {"provider": "anthropic"}
    response = await client.put(f"{API}/openai/credentials/oa-1", json=sent, headers=AS_ALICE)
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["provider"]) == ("oa-1", "openai")


async def test_update_may_not_remove_scopes(client: httpx.AsyncClient, bus: InMemoryBus) -> None:
    """SPEC CS-5: the scope check really runs (the original's was unreachable)."""
    await created(client, oauth2())
    narrower = oauth2(scopes=["repo"])
    response = await client.put(
        f"{API}/github/credentials/gh-1", json=body(narrower), headers=AS_ALICE
    )
    assert response.status_code == 400
    assert "read:user" in response.json()["error"]["message"]
    stored = await client.get(f"{API}/github/credentials/gh-1", headers=AS_ALICE)
    assert stored.json()["scopes"] == ["repo", "read:user"]
    assert len(published(bus)) == 1


async def test_update_may_not_change_the_type(client: httpx.AsyncClient) -> None:
    """SPEC CS-5"""
    await created(client, api_key())
    as_password = user_password("oa-1", provider="openai")
    response = await client.put(
        f"{API}/openai/credentials/oa-1", json=body(as_password), headers=AS_ALICE
    )
    assert response.status_code == 400
    assert error_code(response) == "rule_violation"


async def test_update_of_a_missing_credential_is_404_and_of_a_system_one_403(
    client: httpx.AsyncClient,
) -> None:
    """SPEC CS-5 (must exist), CS-2"""
    missing = await client.put(
        f"{API}/openai/credentials/oa-1", json=body(api_key()), headers=AS_ALICE
    )
    system = await client.put(
        f"{API}/openai/credentials/{OPENAI_SYSTEM_ID}",
        json=body(api_key(OPENAI_SYSTEM_ID)),
        headers=AS_ALICE,
    )
    assert (missing.status_code, system.status_code) == (404, 403)


async def test_update_with_an_invalid_body_is_422(client: httpx.AsyncClient) -> None:
    await created(client, api_key())
    response = await client.put(
        f"{API}/openai/credentials/oa-1", json={"type": "api_key"}, headers=AS_ALICE
    )
    assert response.status_code == 422


# DELETE (SPEC RT-6, CS-6)


async def test_delete_answers_deleted_and_publishes_credentials_deleted(
    client: httpx.AsyncClient, bus: InMemoryBus, revoker: FakeRevoker
) -> None:
    """SPEC RT-6, CS-6: nothing to revoke for an API key (revoked: null)."""
    await created(client, api_key())
    response = await client.delete(f"{API}/openai/credentials/oa-1", headers=AS_ALICE)
    assert response.status_code == 200
    assert response.json() == {"deleted": True, "revoked": None}
    assert revoker.revoked == []
    event = published(bus)[-1]
    assert isinstance(event, CredentialsDeleted)
    assert (event.credentials_id, event.revoked) == ("oa-1", None)
    gone = await client.get(f"{API}/openai/credentials/oa-1", headers=AS_ALICE)
    assert gone.status_code == 404


@pytest.mark.parametrize("answer", [True, False, None])
async def test_delete_revokes_oauth_tokens_and_says_how_it_went(
    client: httpx.AsyncClient, bus: InMemoryBus, revoker: FakeRevoker, answer: bool | None
) -> None:
    """SPEC RT-6: revoked true|false|null."""
    revoker.answer = answer
    await created(client, oauth2())
    response = await client.delete(f"{API}/github/credentials/gh-1", headers=AS_ALICE)
    assert response.json() == {"deleted": True, "revoked": answer}
    assert revoker.revoked == ["gh-1"]
    event = published(bus)[-1]
    assert isinstance(event, CredentialsDeleted)
    assert event.revoked is answer


async def test_delete_of_a_missing_or_another_providers_credential_is_404(
    client: httpx.AsyncClient,
) -> None:
    """SPEC RT-6"""
    await created(client, api_key())
    missing = await client.delete(f"{API}/openai/credentials/nope", headers=AS_ALICE)
    other = await client.delete(f"{API}/anthropic/credentials/oa-1", headers=AS_ALICE)
    assert missing.status_code == other.status_code == 404
    still = await client.get(f"{API}/openai/credentials/oa-1", headers=AS_ALICE)
    assert still.status_code == 200


async def test_delete_of_a_system_credential_is_403(client: httpx.AsyncClient) -> None:
    """SPEC RT-6, CS-2"""
    response = await client.delete(f"{API}/openai/credentials/{OPENAI_SYSTEM_ID}", headers=AS_ALICE)
    assert response.status_code == 403


async def test_managed_credentials_can_be_neither_changed_nor_deleted(
    client: httpx.AsyncClient, ctx: CredentialsContext
) -> None:
    """SPEC RT-6: managed credentials → 403 (listed and readable like any other)."""
    await ctx.repository.add(ALICE, api_key(), managed=True)
    deleted = await client.delete(f"{API}/openai/credentials/oa-1", headers=AS_ALICE)
    updated = await client.put(
        f"{API}/openai/credentials/oa-1", json=body(api_key(title="x")), headers=AS_ALICE
    )
    read = await client.get(f"{API}/openai/credentials/oa-1", headers=AS_ALICE)
    assert (deleted.status_code, updated.status_code, read.status_code) == (403, 403, 200)


async def test_delete_asks_for_confirmation_while_webhooks_are_in_use(
    client: httpx.AsyncClient, webhooks: FakeWebhooks, bus: InMemoryBus
) -> None:
    """SPEC RT-6: the needs-confirmation shape; nothing deleted, nothing published."""
    await created(client, oauth2())
    webhooks.used.add((ALICE, "gh-1"))
    response = await client.delete(f"{API}/github/credentials/gh-1", headers=AS_ALICE)
    assert response.status_code == 200
    answered = response.json()
    assert answered["deleted"] is False
    assert answered["need_confirmation"] is True
    assert answered["message"]
    assert webhooks.released == []
    assert len(published(bus)) == 1
    still = await client.get(f"{API}/github/credentials/gh-1", headers=AS_ALICE)
    assert still.status_code == 200


async def test_forced_delete_releases_the_webhooks_first(
    client: httpx.AsyncClient, webhooks: FakeWebhooks
) -> None:
    """SPEC RT-6"""
    await created(client, oauth2())
    webhooks.used.add((ALICE, "gh-1"))
    response = await client.delete(
        f"{API}/github/credentials/gh-1", params={"force": "true"}, headers=AS_ALICE
    )
    assert response.json() == {"deleted": True, "revoked": True}
    assert webhooks.released == [(ALICE, "gh-1")]
