"""Read-through client of the credentials service's internal webhook route.

Contract (owned by credentials, relied on here)::

    GET {CREDENTIALS_INTERNAL_URL}/internal/webhooks/{webhook_id}
    Authorization: Bearer <SERVICE_TOKEN>

    200  the webhook's current `WebhookState` as JSON (the compacted topic's record body)
    404  no such webhook (never created, or pruned)

Anything else (401/403, 5xx, a body that is not a `WebhookState`, a timeout, a refused
connection) means "cannot tell": the caller answers 503 and the provider retries.
"""

import logging
from urllib.parse import quote

import httpx
from pydantic import SecretStr, ValidationError

from integrations.contracts import WebhookState
from integrations.ingress.handlers import WebhookLookupUnavailable

log = logging.getLogger(__name__)

INTERNAL_WEBHOOK_PATH = "/internal/webhooks/{webhook_id}"


class CredentialsWebhookClient:
    """One attempt per call, bounded by `timeout_s`: a retry belongs to the provider."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        service_token: SecretStr | None,
        timeout_s: float,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._service_token = service_token
        self._timeout = httpx.Timeout(timeout_s)

    async def fetch(self, webhook_id: str) -> WebhookState | None:
        url = self._base_url + INTERNAL_WEBHOOK_PATH.format(webhook_id=quote(webhook_id, safe=""))
        headers = {"Accept": "application/json"}
        if self._service_token is not None:
            headers["Authorization"] = f"Bearer {self._service_token.get_secret_value()}"
        try:
            response = await self._http.get(url, headers=headers, timeout=self._timeout)
        except httpx.HTTPError as error:
            # The error type only: its text may carry the request, and so the token.
            raise WebhookLookupUnavailable(
                f"credentials unreachable: {type(error).__name__}"
            ) from None
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code != httpx.codes.OK:
            raise WebhookLookupUnavailable(f"credentials answered {response.status_code}")
        try:
            state = WebhookState.model_validate_json(response.content)
        except ValidationError:
            raise WebhookLookupUnavailable("credentials answered an invalid webhook") from None
        if state.webhook_id != webhook_id:
            raise WebhookLookupUnavailable("credentials answered another webhook")
        return state
