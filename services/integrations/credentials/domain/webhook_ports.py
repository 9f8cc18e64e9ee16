"""What the webhook handlers need from storage and from the credentials they register with."""

from collections.abc import AsyncIterator
from typing import Protocol

from integrations.credentials.domain.webhooks import Webhook
from integrations.providers import ProviderAuth


class DuplicateWebhook(Exception):
    """Another webhook already holds this dedupe key: someone else created it first."""


class WebhookRepository(Protocol):
    """Webhooks by id, by dedupe key, by user. Writes are versioned: `save` and `remove`
    succeed only while the stored version is the one the caller read (`webhook.version`)."""

    async def add(self, webhook: Webhook) -> None:
        """Raise `DuplicateWebhook` when the dedupe key (or the id) is taken."""
        ...

    async def get(self, webhook_id: str) -> Webhook | None: ...

    async def get_for_user(self, user_id: str, webhook_id: str) -> Webhook | None:
        """Another user's webhook is None, exactly like a missing one."""
        ...

    async def by_dedupe_key(self, dedupe_key: str) -> Webhook | None: ...

    async def for_user(self, user_id: str) -> list[Webhook]: ...

    async def for_credentials(self, user_id: str, credentials_id: str) -> list[Webhook]: ...

    async def save(self, webhook: Webhook) -> Webhook | None:
        """Store `webhook` over version `webhook.version`; the stored copy (next version), or
        None when it changed or vanished meanwhile (re-read and decide again)."""
        ...

    async def remove(self, webhook: Webhook) -> bool:
        """Delete it if still at `webhook.version`."""
        ...

    def scan(self) -> AsyncIterator[Webhook]:
        """Every webhook (start-up republication, recovery)."""
        ...


class ProviderAuthSource(Protocol):
    async def auth_for(
        self, user_id: str, credentials_id: str, provider: str
    ) -> ProviderAuth | None:
        """The user's token for `provider` from these credentials (refreshed if about to
        expire); None when they do not exist, belong to another provider, or hold no token
        a webhook manager can use."""
        ...
