"""The webhook half of the credentials service, composed: called by `bootstrap.build`, which
hands in what the service already has (bus, database, ciphers, HTTP client, registry)."""

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import httpx
from fastapi import APIRouter

from integrations.bus import Bus
from integrations.credentials.adapters.github import GithubWebhookManager
from integrations.credentials.adapters.provider_auth import (
    Freshen,
    StoredCredentialsAuth,
    revealing,
)
from integrations.credentials.adapters.webhook_repository import (
    COLLECTION,
    DocumentWebhookRepository,
)
from integrations.credentials.config import CredentialsSettings
from integrations.credentials.domain.ports import CredentialsRepository
from integrations.credentials.entrypoints import on_trigger_commands, webhook_routes
from integrations.credentials.webhook_context import SecretCipher, WebhookContext, WebhookPolicy
from integrations.credentials.webhook_upkeep import LinkedWebhooks, republish_webhooks
from integrations.crypto import Cipher, Purpose
from integrations.providers import ProviderRegistry, WebhookManager, build_registry
from integrations.storage import Database

# The providers whose webhooks this service registers itself (SPEC WH-2); the others are
# manual. Adding one is adding its manager here.
WEBHOOK_MANAGERS: Final[Mapping[str, type[WebhookManager]]] = {"github": GithubWebhookManager}


@dataclass
class Webhooks:
    context: WebhookContext
    repository: DocumentWebhookRepository
    usage: LinkedWebhooks
    routers: list[APIRouter]
    ready: asyncio.Event = field(default_factory=asyncio.Event)

    async def until_ready(self) -> None:
        await self.ready.wait()

    async def on_start(self) -> None:
        await self.repository.ensure_indexes()
        self.ready.set()
        await republish_webhooks(self.context)


def webhook_state_cipher(settings: CredentialsSettings) -> Cipher:
    """`WebhookState` carries the secret under the one key ingress holds (DESIGN §6)."""
    if settings.encryption_keys is None:
        raise ValueError("credentials needs ENCRYPTION_KEYS, the root key ring")
    return Cipher.from_key_ring(
        settings.encryption_keys.get_secret_value(), Purpose.WEBHOOK_SECRETS
    )


def build_managers(
    registry: ProviderRegistry,
    http: httpx.AsyncClient,
    *,
    options: Mapping[str, Mapping[str, Any]] | None = None,
    classes: Mapping[str, type[WebhookManager]] = WEBHOOK_MANAGERS,
) -> dict[str, WebhookManager]:
    """One manager per provider the registry declares and `classes` implements, bound to
    its provider (SPEC REG-3); `options` are extra constructor arguments by provider."""
    declared = [p for name in registry.names() if (p := registry.provider(name)) is not None]
    bound = build_registry(
        declared, webhook_managers={n: c for n, c in classes.items() if n in registry}
    )
    return {
        name: cls(http=http, **dict((options or {}).get(name, {})))
        for name, cls in bound.webhook_managers().items()
    }


def build_webhooks(
    *,
    bus: Bus,
    database: Database,
    at_rest: Cipher,
    state_cipher: SecretCipher,
    registry: ProviderRegistry,
    managers: Mapping[str, WebhookManager],
    credentials: CredentialsRepository,
    freshen: Freshen,
    freshen_held: Freshen,
    platform_base_url: str,
    consumer_group: str,
    policy: WebhookPolicy | None = None,
) -> Webhooks:
    """`freshen` is the refresh-on-read of a credential's use (SPEC CM-1); `freshen_held` the
    same for a caller that already holds the credential's lease (credentials deletion)."""
    repository = DocumentWebhookRepository(database.collection(COLLECTION), at_rest)
    ctx = WebhookContext(
        repository=repository,
        bus=bus,
        managers=managers,
        configs=registry.webhook_config,
        auth=StoredCredentialsAuth(revealing(credentials, freshen)),
        state_cipher=state_cipher,
        platform_base_url=platform_base_url,
        policy=policy or WebhookPolicy(),
    )
    webhooks = Webhooks(
        context=ctx,
        repository=repository,
        usage=LinkedWebhooks(ctx, auth=StoredCredentialsAuth(revealing(credentials, freshen_held))),
        routers=[
            webhook_routes.build_user_router(ctx),
            webhook_routes.build_internal_router(ctx),
        ],
    )
    on_trigger_commands.subscribe(bus, ctx, group=consumer_group, until_ready=webhooks.until_ready)
    return webhooks
