"""GitHub repository webhooks through its REST API (SPEC WH-2, WH-4, WH-5, WH-6).

    POST   /repos/{owner}/{repo}/hooks              register: 201 {id, config, ...}
    DELETE /repos/{owner}/{repo}/hooks/{id}         deregister: 204; 404 = already gone
    POST   /repos/{owner}/{repo}/hooks/{id}/pings   ping: 204, then GitHub sends `ping`

Every failure is a `ProviderError` whose message is safe to show: GitHub's own message,
never the request (it carries the token and the webhook secret).
"""

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar, Final
from urllib.parse import quote

import httpx
from pydantic import SecretStr

from integrations.providers import (
    InvalidWebhookPayload,
    InvalidWebhookSignature,
    ProviderAuth,
    ProviderError,
    WebhookManager,
    WebhookRef,
    WebhookRegistration,
)

API_URL: Final = "https://api.github.com"
REPO_HOOK: Final = "repo"
EVENT_HEADER: Final = "X-GitHub-Event"
SIGNATURE_HEADER: Final = "X-Hub-Signature-256"
_API_VERSION: Final = "2022-11-28"
_TIMEOUT: Final = httpx.Timeout(10.0)
_MAX_ERROR_CHARS: Final = 300


class GithubWebhookManager(WebhookManager):
    PROVIDER_NAME: ClassVar[str | None] = "github"

    def __init__(self, *, http: httpx.AsyncClient, api_url: str = API_URL) -> None:
        super().__init__(http=http)
        self._api_url = api_url.rstrip("/")

    async def validate_payload(
        self, webhook: WebhookRef, headers: Mapping[str, str], body: bytes
    ) -> tuple[dict[str, Any], str]:
        event = headers.get(EVENT_HEADER)
        if not event:
            raise InvalidWebhookPayload(f"The request has no {EVENT_HEADER} header.")
        signature = headers.get(SIGNATURE_HEADER) or ""
        key = webhook.secret.get_secret_value().encode()
        expected = "sha256=" + hmac.new(key, body, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode(), signature.lower().encode()):
            raise InvalidWebhookSignature("The signature does not match.")
        try:
            payload = json.loads(body)
        except ValueError:
            raise InvalidWebhookPayload("The request body is not valid JSON.") from None
        if not isinstance(payload, dict):
            raise InvalidWebhookPayload("The request body is not a JSON object.")
        action = payload.get("action")
        # `ping` stays `ping` whatever it carries: the ping waiter looks for exactly that.
        has_action = isinstance(action, str) and bool(action) and event != "ping"
        event_type = f"{event}.{action}" if has_action else event
        return payload, event_type

    async def register(
        self,
        *,
        auth: ProviderAuth | None,
        webhook_type: str,
        resource: str,
        events: Sequence[str],
        ingress_url: str,
        secret: SecretStr,
    ) -> WebhookRegistration:
        hooks_url = f"{self._repo_url(webhook_type, resource)}/hooks"
        body = {
            "name": "web",
            "active": True,
            # GitHub subscribes to whole events: `pull_request.opened` → `pull_request`.
            "events": sorted({event.split(".", 1)[0] for event in events}),
            "config": {
                "url": ingress_url,
                "content_type": "json",
                "insecure_ssl": "0",
                "secret": secret.get_secret_value(),
            },
        }
        response = await self._call("POST", hooks_url, auth, json=body)
        if response.status_code != httpx.codes.CREATED:
            raise ProviderError(_refusal("create the webhook", response, resource))
        answer = response.json()
        config = {k: v for k, v in dict(answer.get("config") or {}).items() if k != "secret"}
        return WebhookRegistration(provider_webhook_id=str(answer["id"]), config=config)

    async def deregister(self, webhook: WebhookRef, auth: ProviderAuth | None) -> None:
        url = self._hook_url(webhook)
        response = await self._call("DELETE", url, auth)
        # 404: deleted at GitHub already (by the user, or an earlier attempt): the goal holds.
        if response.status_code not in (httpx.codes.NO_CONTENT, httpx.codes.NOT_FOUND):
            raise ProviderError(_refusal("delete the webhook", response, webhook.resource))

    async def trigger_ping(self, webhook: WebhookRef, auth: ProviderAuth | None) -> None:
        response = await self._call("POST", f"{self._hook_url(webhook)}/pings", auth)
        if response.status_code != httpx.codes.NO_CONTENT:
            raise ProviderError(_refusal("ping the webhook", response, webhook.resource))

    def _repo_url(self, webhook_type: str, resource: str) -> str:
        if webhook_type != REPO_HOOK:
            raise ProviderError(f"GitHub webhooks of type {webhook_type!r} are not supported.")
        owner, _, repo = resource.partition("/")
        if not owner or not repo or "/" in repo or any(c.isspace() for c in resource):
            raise ProviderError(f"Invalid repository {resource!r}: expected 'owner/repo'.")
        return f"{self._api_url}/repos/{quote(owner, safe='')}/{quote(repo, safe='')}"

    def _hook_url(self, webhook: WebhookRef) -> str:
        if not webhook.provider_webhook_id:
            raise ProviderError("The webhook is not registered at GitHub.")
        hook_id = quote(webhook.provider_webhook_id, safe="")
        return f"{self._repo_url(webhook.webhook_type, webhook.resource)}/hooks/{hook_id}"

    async def _call(
        self, method: str, url: str, auth: ProviderAuth | None, *, json: Any = None
    ) -> httpx.Response:
        if auth is None:
            raise ProviderError("GitHub webhooks need the user's GitHub credentials.")
        headers = {
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {auth.token.get_secret_value()}",
            "X-GitHub-Api-Version": _API_VERSION,
        }
        try:
            return await self.http.request(
                method, url, headers=headers, json=json, timeout=_TIMEOUT
            )
        except httpx.HTTPError as error:
            # The type only: an httpx error's text can quote the request.
            raise ProviderError(f"GitHub is unreachable ({type(error).__name__}).") from None


def _refusal(action: str, response: httpx.Response, resource: str) -> str:
    message = _github_message(response)
    hint = ""
    if response.status_code == httpx.codes.NOT_FOUND:
        # GitHub answers 404, not 403, when the token may not see or administer the repo.
        hint = f" (the credentials need admin rights on {resource!r}, scope `admin:repo_hook`)"
    return f"GitHub refused to {action}: {response.status_code} {message}{hint}"[:512]


def _github_message(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase
    message = body.get("message") if isinstance(body, dict) else None
    return str(message)[:_MAX_ERROR_CHARS] if message else response.reason_phrase
