"""The client side of the internal managed-credentials contract (SPEC CS-7), on MockTransport."""

import json

import httpx
import pytest
from pydantic import SecretStr

from integrations.oauth.adapters.managed_credentials import ManagedCredentialsClient
from integrations.oauth.domain.errors import ManagedCredentialsUnavailable

pytestmark = pytest.mark.unit

TOKEN = "service-token-0123456789abcdef0123456789"


def client(handler: httpx.MockTransport) -> tuple[httpx.AsyncClient, ManagedCredentialsClient]:
    http = httpx.AsyncClient(transport=handler)
    return http, ManagedCredentialsClient(
        http,
        base_url="http://credentials.internal/",
        service_token=SecretStr(TOKEN),
        timeout_s=1.0,
    )


async def test_get_reads_the_secret_of_the_user_and_name() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"secret": "pk-1"})

    http, managed = client(httpx.MockTransport(answer))
    async with http:
        assert await managed.get("user/1 ü", "ayrshare_profile_key") == "pk-1"

    (request,) = seen
    assert request.method == "GET"
    assert request.url.raw_path == b"/internal/users/user%2F1%20%C3%BC/managed/ayrshare_profile_key"
    assert request.url.host == "credentials.internal"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_get_of_nothing_stored_is_none() -> None:
    http, managed = client(httpx.MockTransport(lambda _: httpx.Response(404)))
    async with http:
        assert await managed.get("u", "n") is None


async def test_put_sends_the_secret_as_json() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    http, managed = client(httpx.MockTransport(answer))
    async with http:
        await managed.put("u", "ayrshare_profile_key", "pk-2")

    (request,) = seen
    assert request.method == "PUT"
    assert request.url.path == "/internal/users/u/managed/ayrshare_profile_key"
    assert json.loads(request.content) == {"secret": "pk-2"}
    assert request.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(403),
        httpx.Response(500),
        httpx.Response(200, json={"value": "x"}),
        httpx.Response(200, text="not json"),
    ],
)
async def test_anything_else_means_the_credentials_service_cannot_tell(
    response: httpx.Response,
) -> None:
    http, managed = client(httpx.MockTransport(lambda _: response))
    async with http:
        with pytest.raises(ManagedCredentialsUnavailable):
            await managed.get("u", "n")


async def test_a_failed_put_or_an_unreachable_service_is_unavailable_without_the_token() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused {request.headers}")

    http, managed = client(httpx.MockTransport(refuse))
    async with http:
        with pytest.raises(ManagedCredentialsUnavailable) as failed:
            await managed.put("u", "n", "s")

    assert TOKEN not in str(failed.value)
    assert "ConnectError" in str(failed.value)

    http, managed = client(httpx.MockTransport(lambda _: httpx.Response(409)))
    async with http:
        with pytest.raises(ManagedCredentialsUnavailable, match="409"):
            await managed.put("u", "n", "s")
