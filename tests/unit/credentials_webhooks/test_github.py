"""The GitHub webhook manager against a fake GitHub (httpx MockTransport)."""

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from integrations.credentials.adapters.github import GithubWebhookManager
from integrations.providers import (
    InvalidWebhookPayload,
    InvalidWebhookSignature,
    ProviderAuth,
    ProviderError,
)
from tests.unit.credentials_webhooks.kit import TOKEN, FakeGitHub

pytestmark = pytest.mark.unit

AUTH = ProviderAuth(credentials_id="cred", token=SecretStr(TOKEN))
SECRET = SecretStr("hook-secret-" + "x" * 40)
INGRESS = "https://platform.example/api/integrations/github/webhooks/wh-1/ingress"


@dataclass
class Hook:
    """A registered hook as the manager reads it (`WebhookRef`)."""

    provider_webhook_id: str
    id: str = "wh-1"
    provider: str = "github"
    webhook_type: str = "repo"
    resource: str = "octo/repo"
    events: tuple[str, ...] = ("push",)
    config: dict[str, Any] = field(default_factory=dict)
    secret: SecretStr = SECRET


@pytest.fixture
def github() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
async def manager(github: FakeGitHub) -> GithubWebhookManager:
    return GithubWebhookManager(http=github.client(), api_url="https://api.github.test")


async def register(manager: GithubWebhookManager, **changes: Any) -> Any:
    fields: dict[str, Any] = {
        "auth": AUTH,
        "webhook_type": "repo",
        "resource": "octo/repo",
        "events": ["pull_request.opened", "pull_request.closed", "push"],
        "ingress_url": INGRESS,
        "secret": SECRET,
    }
    fields.update(changes)
    return await manager.register(**fields)


async def test_registers_a_repo_hook_for_the_event_prefixes_with_the_secret(
    manager: GithubWebhookManager, github: FakeGitHub
) -> None:
    """SPEC WH-2: events reduced to their prefixes, `config.secret`, content type json."""
    registration = await register(manager)
    (request,) = github.requests
    assert (request.method, str(request.url)) == (
        "POST",
        "https://api.github.test/repos/octo/repo/hooks",
    )
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    body = json.loads(request.content)
    assert body["events"] == ["pull_request", "push"]
    assert body["config"] == {
        "url": INGRESS,
        "content_type": "json",
        "insecure_ssl": "0",
        "secret": SECRET.get_secret_value(),
    }
    assert registration.provider_webhook_id == "1001"
    # What is stored and published holds no secret, not even GitHub's mask.
    assert "secret" not in registration.config
    assert registration.config["url"] == INGRESS


async def test_a_refusal_carries_githubs_message_but_no_secret(
    manager: GithubWebhookManager, github: FakeGitHub
) -> None:
    github.fail_with = 422
    with pytest.raises(ProviderError) as refused:
        await register(manager)
    message = str(refused.value)
    assert "422 Validation Failed" in message
    assert TOKEN not in message
    assert SECRET.get_secret_value() not in message


async def test_a_404_on_registration_names_the_rights_it_needs() -> None:
    def not_found(_: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"message": "Not Found"})

    manager = GithubWebhookManager(http=httpx.AsyncClient(transport=httpx.MockTransport(not_found)))
    with pytest.raises(ProviderError, match="admin rights on 'octo/repo'"):
        await register(manager)


@pytest.mark.parametrize("resource", ["octo", "octo/", "/repo", "a/b/c", "octo/re po"])
async def test_refuses_a_resource_that_is_not_owner_slash_repo(
    manager: GithubWebhookManager, github: FakeGitHub, resource: str
) -> None:
    with pytest.raises(ProviderError, match="owner/repo"):
        await register(manager, resource=resource)
    assert github.requests == []


async def test_refuses_other_webhook_types_and_missing_credentials(
    manager: GithubWebhookManager, github: FakeGitHub
) -> None:
    with pytest.raises(ProviderError, match="not supported"):
        await register(manager, webhook_type="org")
    with pytest.raises(ProviderError, match="credentials"):
        await register(manager, auth=None)
    assert github.requests == []


async def test_an_unreachable_github_is_a_provider_error_without_the_request() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect for {request.headers['authorization']}")

    manager = GithubWebhookManager(http=httpx.AsyncClient(transport=httpx.MockTransport(refuse)))
    with pytest.raises(ProviderError, match="unreachable") as failed:
        await register(manager)
    assert TOKEN not in str(failed.value)


async def test_deregisters_the_hook(manager: GithubWebhookManager, github: FakeGitHub) -> None:
    """SPEC WH-4"""
    registration = await register(manager)
    await manager.deregister(Hook(registration.provider_webhook_id), AUTH)
    assert github.calls[-1] == ("DELETE", "/repos/octo/repo/hooks/1001")
    assert github.hooks == {}


async def test_a_hook_github_no_longer_knows_counts_as_deregistered(
    manager: GithubWebhookManager, github: FakeGitHub
) -> None:
    """SPEC WH-4: GitHub 404 = success."""
    await manager.deregister(Hook("999"), AUTH)
    assert github.calls == [("DELETE", "/repos/octo/repo/hooks/999")]


async def test_other_deregistration_failures_raise(
    manager: GithubWebhookManager, github: FakeGitHub
) -> None:
    github.fail_with = 500
    with pytest.raises(ProviderError, match="500"):
        await manager.deregister(Hook("1"), AUTH)


async def test_pings_the_hook(manager: GithubWebhookManager, github: FakeGitHub) -> None:
    """SPEC WH-6: POST the hook's pings endpoint."""
    pinged: list[str] = []

    async def on_ping(hook: str) -> None:
        pinged.append(hook)

    github.on_ping = on_ping
    registration = await register(manager)
    await manager.trigger_ping(Hook(registration.provider_webhook_id), AUTH)
    assert github.calls[-1] == ("POST", "/repos/octo/repo/hooks/1001/pings")
    assert pinged == ["1001"]


async def test_a_failed_ping_raises(manager: GithubWebhookManager) -> None:
    with pytest.raises(ProviderError, match="ping"):
        await manager.trigger_ping(Hook("404404"), AUTH)
    with pytest.raises(ProviderError, match="not registered"):
        await manager.trigger_ping(Hook(""), AUTH)


def signed(body: bytes, secret: SecretStr = SECRET) -> str:
    return (
        "sha256=" + hmac.new(secret.get_secret_value().encode(), body, hashlib.sha256).hexdigest()
    )


async def test_validates_a_signed_delivery(manager: GithubWebhookManager) -> None:
    """SPEC WH-5: `{event}.{action}` when the payload has an action."""
    body = json.dumps({"action": "opened", "number": 1}).encode()
    headers = httpx.Headers({"X-GitHub-Event": "pull_request", "X-Hub-Signature-256": signed(body)})
    payload, event_type = await manager.validate_payload(Hook("1"), headers, body)
    assert (payload["number"], event_type) == (1, "pull_request.opened")
    ping = json.dumps({"zen": "z", "action": "x"}).encode()
    headers = httpx.Headers({"X-GitHub-Event": "ping", "X-Hub-Signature-256": signed(ping)})
    assert (await manager.validate_payload(Hook("1"), headers, ping))[1] == "ping"


async def test_rejects_unsigned_badly_signed_and_eventless_deliveries(
    manager: GithubWebhookManager,
) -> None:
    """SPEC WH-5: no event → 400 (payload); missing/invalid signature → 403 (signature)."""
    body = b'{"action": "opened"}'
    with pytest.raises(InvalidWebhookPayload):
        await manager.validate_payload(Hook("1"), httpx.Headers({}), body)
    with pytest.raises(InvalidWebhookSignature):
        await manager.validate_payload(Hook("1"), httpx.Headers({"X-GitHub-Event": "push"}), body)
    wrong = signed(body, SecretStr("another"))
    headers = httpx.Headers({"X-GitHub-Event": "push", "X-Hub-Signature-256": wrong})
    with pytest.raises(InvalidWebhookSignature):
        await manager.validate_payload(Hook("1"), headers, body)
