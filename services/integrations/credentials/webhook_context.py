"""What the webhook verbs are handed: built by bootstrap, or by tests with in-memory
adapters and a fake provider."""

import asyncio
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Final, Protocol

from pydantic import SecretStr

from integrations.bus import Bus
from integrations.credentials.domain.webhook_ports import ProviderAuthSource, WebhookRepository
from integrations.providers import WebhookConfig, WebhookManager

SOURCE: Final = "/integrations/credentials"
SECRET_BYTES: Final = 32


class SecretCipher(Protocol):
    """Seals the secret in `WebhookState` under the `webhook-secrets` purpose key, the only
    key ingress holds."""

    def encrypt_text(self, plaintext: str, *, associated_data: bytes = b"") -> str: ...


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    # SPEC RT-8: how long a ping waits for its delivery.
    ping_timeout_s: float = 10.0
    # A webhook left pending (registering) or pruning this long was abandoned by a crashed
    # worker: the next one to meet it finishes the job. Longer than any provider call.
    stale_after_s: float = 60.0
    # How long an activation waits for another worker registering the same webhook.
    activation_wait_s: float = 30.0
    poll_s: float = 0.05
    # Webhooks republished at once on start-up (each waits for the broker's ack).
    republish_batch: int = 100


def new_webhook_id() -> str:
    return str(uuid.uuid4())


def new_webhook_secret() -> SecretStr:
    return SecretStr(secrets.token_hex(SECRET_BYTES))


@dataclass(frozen=True, slots=True)
class WebhookContext:
    repository: WebhookRepository
    bus: Bus
    # Instances by provider name, for the providers whose webhooks this service registers.
    managers: Mapping[str, WebhookManager]
    # The registry's declaration of a provider's webhooks (None: it sends none).
    configs: Callable[[str], WebhookConfig | None]
    auth: ProviderAuthSource
    state_cipher: SecretCipher
    platform_base_url: str
    policy: WebhookPolicy = field(default_factory=WebhookPolicy)
    clock: Callable[[], float] = time.time
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    new_id: Callable[[], str] = new_webhook_id
    new_secret: Callable[[], SecretStr] = new_webhook_secret
