"""The read-through client against a fake credentials service (httpx MockTransport)."""

from collections.abc import Callable

import httpx
import pytest
from pydantic import SecretStr

from integrations.ingress.adapters.credentials_client import CredentialsWebhookClient
from integrations.ingress.handlers import WebhookLookupUnavailable
from tests.unit.ingress_service.fixtures import webhook

pytestmark = pytest.mark.unit

TOKEN = "service-token-marker-0123456789abcdef"


def client(handler: Callable[[httpx.Request], httpx.Response]) -> CredentialsWebhookClient:
    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    return CredentialsWebhookClient(
        http, base_url="http://credentials:8000/", service_token=SecretStr(TOKEN), timeout_s=1.0
    )


async def test_asks_the_internal_route_with_the_service_token() -> None:
    seen: list[httpx.Request] = []

    def credentials(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=webhook("wh/1?#").model_dump_json())

    state = await client(credentials).fetch("wh/1?#")

    assert state is not None
    assert state.webhook_id == "wh/1?#"
    [request] = seen
    assert request.method == "GET"
    assert request.url.raw_path == b"/internal/webhooks/wh%2F1%3F%23"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"


async def test_a_404_means_no_such_webhook() -> None:
    assert await client(lambda _: httpx.Response(404, json={"error": {}})).fetch("wh-1") is None


@pytest.mark.parametrize("status", [401, 403, 429, 500, 502, 503])
async def test_any_other_status_means_cannot_tell(status: int) -> None:
    with pytest.raises(WebhookLookupUnavailable, match=str(status)):
        await client(lambda _: httpx.Response(status)).fetch("wh-1")


@pytest.mark.parametrize(
    "error", [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.PoolTimeout("full")]
)
async def test_transport_failures_mean_cannot_tell_and_do_not_leak_the_request(
    error: httpx.HTTPError,
) -> None:
    def failing(request: httpx.Request) -> httpx.Response:
        raise error

    with pytest.raises(WebhookLookupUnavailable) as raised:
        await client(failing).fetch("wh-1")
    assert TOKEN not in str(raised.value)
    assert raised.value.__cause__ is None


async def test_makes_exactly_one_attempt() -> None:
    attempts = 0

    def flaky(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        return httpx.Response(503)

    with pytest.raises(WebhookLookupUnavailable):
        await client(flaky).fetch("wh-1")
    assert attempts == 1


@pytest.mark.parametrize(
    "body", [b"not json", b'{"webhook_id": "wh-1"}', webhook("wh-other").model_dump_json().encode()]
)
async def test_an_answer_that_is_not_this_webhooks_state_means_cannot_tell(body: bytes) -> None:
    with pytest.raises(WebhookLookupUnavailable):
        await client(lambda _: httpx.Response(200, content=body)).fetch("wh-1")
