"""SPEC CS-7 over HTTP: the contract the oauth service's client relies on."""

import json

import httpx
import pytest
from pydantic import SecretStr

from integrations.credentials.adapters.managed_repository import COLLECTION as MANAGED_COLLECTION
from integrations.credentials.context import CredentialsContext
from integrations.oauth.adapters.managed_credentials import ManagedCredentialsClient
from integrations.storage import Database
from tests.unit.credentials.kit import SERVICE_HEADERS, SERVICE_TOKEN

pytestmark = pytest.mark.unit

PATH = "/internal/users/user-a/managed/ayrshare_profile_key"


def oauth_client(http: httpx.AsyncClient, token: str = SERVICE_TOKEN) -> ManagedCredentialsClient:
    return ManagedCredentialsClient(
        http, base_url="http://test", service_token=SecretStr(token), timeout_s=5
    )


async def test_oauth_client_stores_and_reads_back_a_managed_secret(
    client: httpx.AsyncClient,
) -> None:
    managed = oauth_client(client)
    assert await managed.get("user-a", "ayrshare_profile_key") is None
    await managed.put("user-a", "ayrshare_profile_key", "profile-key-1")
    await managed.put("user-a", "ayrshare_profile_key", "profile-key-2")
    assert await managed.get("user-a", "ayrshare_profile_key") == "profile-key-2"
    assert await managed.get("user-b", "ayrshare_profile_key") is None


async def test_the_secret_is_stored_encrypted_and_never_cached(
    client: httpx.AsyncClient, ctx: CredentialsContext, database: Database
) -> None:
    await oauth_client(client).put("user-a", "ayrshare_profile_key", "profile-key-plain")
    assert await ctx.managed.get("user-a", "ayrshare_profile_key") == "profile-key-plain"
    stored = await database.collection(MANAGED_COLLECTION).find({})
    assert len(stored) == 1
    assert "profile-key-plain" not in json.dumps(stored)
    response = await client.get(PATH, headers=SERVICE_HEADERS)
    assert response.headers["cache-control"] == "no-store"


async def test_managed_routes_need_the_service_token(client: httpx.AsyncClient) -> None:
    assert (await client.get(PATH)).status_code == 401
    wrong = {"Authorization": "Bearer not-the-service-token"}
    assert (await client.get(PATH, headers=wrong)).status_code == 403
    put = await client.put(PATH, json={"secret": "x"}, headers=wrong)
    assert put.status_code == 403


async def test_an_invalid_name_or_body_is_a_422(client: httpx.AsyncClient) -> None:
    bad_name = "/internal/users/user-a/managed/Not%20A%20Name"
    assert (await client.get(bad_name, headers=SERVICE_HEADERS)).status_code == 422
    empty = await client.put(PATH, json={"secret": ""}, headers=SERVICE_HEADERS)
    assert empty.status_code == 422
