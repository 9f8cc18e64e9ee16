"""Receiving one webhook delivery: look up → verify → parse → publish, then answer.

What can go wrong, and what the HTTP layer answers::

    IngressError
    ├── UnknownWebhook             404  no such webhook, or not this provider's
    ├── BodyTooLarge               413  over the configured limit
    ├── WebhookLookupUnavailable   503  view missed and credentials cannot tell now
    └── SecretUnreadable           500  the stored secret does not decrypt (key ring config)
    InvalidWebhookSignature        403  (integrations.providers, raised by the domain)
    InvalidWebhookPayload          400  (idem)
    BusUnavailable                 503  not acknowledged in time: nothing was published
    PublishRejected                500  the broker refused the record for good
"""

import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar, Protocol

from pydantic import SecretStr, ValidationError

from integrations.bus import Bus
from integrations.contracts import WebhookEventReceived, WebhookState, topics
from integrations.crypto import CryptoError
from integrations.ingress.domain.events import ParsedDelivery, parse_delivery
from integrations.ingress.domain.types import Clock
from integrations.ingress.domain.verification import verify_request
from integrations.providers import InvalidWebhookPayload, WebhookConfig

SOURCE = "/integrations/ingress"
# contracts.types.WebhookId: checked before any lookup, so junk ids cost nothing.
_WEBHOOK_ID = re.compile(r"\S{1,128}")


class IngressError(Exception):
    outcome: ClassVar[str]


class UnknownWebhook(IngressError):
    outcome = "unknown_webhook"


class BodyTooLarge(IngressError):
    outcome = "too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body exceeds {limit} bytes.")
        self.limit = limit


class WebhookLookupUnavailable(IngressError):
    outcome = "lookup_unavailable"


class SecretUnreadable(IngressError):
    outcome = "secret_unreadable"


class WebhookLookup(Protocol):
    async def find(self, webhook_id: str) -> WebhookState | None:
        """The webhook, or None if unknown; raises `WebhookLookupUnavailable`."""
        ...


class SecretCipher(Protocol):
    def decrypt_text(self, token: str, *, associated_data: bytes = b"") -> str: ...


class WebhookConfigs(Protocol):
    def webhook_config(self, name: str) -> WebhookConfig | None: ...


@dataclass(frozen=True, slots=True)
class IncomingDelivery:
    provider: str
    webhook_id: str
    headers: Mapping[str, str]
    # Called once the webhook is known: an unknown id never costs reading its body.
    read_body: Callable[[], Awaitable[bytes]]


@dataclass(frozen=True, slots=True)
class Accepted:
    event_id: str


@dataclass(frozen=True, slots=True)
class Handshake:
    """Answered with `challenge`, nothing published (Slack's url_verification)."""

    challenge: str


@dataclass(frozen=True, slots=True)
class Collaborators:
    providers: WebhookConfigs
    webhooks: WebhookLookup
    cipher: SecretCipher
    bus: Bus
    clock: Clock = time.time


async def receive_webhook(delivery: IncomingDelivery, deps: Collaborators) -> Accepted | Handshake:
    config, webhook = await _find_webhook(delivery, deps)
    body = await delivery.read_body()
    verified = verify_request(
        config=config,
        provider=delivery.provider,
        webhook_id=webhook.webhook_id,
        webhook_type=webhook.webhook_type,
        headers=delivery.headers,
        body=body,
        secret=_secret_of(webhook, config, deps.cipher),
        clock=deps.clock,
    )
    parsed = parse_delivery(verified)
    if parsed.challenge is not None:
        return Handshake(parsed.challenge)
    await _publish(_event(webhook, parsed, deps.clock), deps)
    return Accepted(parsed.event_id)


def is_webhook_id(text: str) -> bool:
    return _WEBHOOK_ID.fullmatch(text) is not None


async def _find_webhook(
    delivery: IncomingDelivery, deps: Collaborators
) -> tuple[WebhookConfig, WebhookState]:
    config = deps.providers.webhook_config(delivery.provider)
    if config is None or not is_webhook_id(delivery.webhook_id):
        raise UnknownWebhook()
    webhook = await deps.webhooks.find(delivery.webhook_id)
    # Another provider's webhook gets the same answer as a missing one: nothing to probe.
    if webhook is None or webhook.provider != delivery.provider:
        raise UnknownWebhook()
    return config, webhook


def _secret_of(
    webhook: WebhookState, config: WebhookConfig, cipher: SecretCipher
) -> SecretStr | None:
    if not config.signed:
        return None
    try:
        # Associated data = webhook id: a ciphertext copied onto another webhook won't open.
        plaintext = cipher.decrypt_text(
            webhook.secret_ciphertext, associated_data=webhook.webhook_id.encode()
        )
    except CryptoError as error:
        raise SecretUnreadable(type(error).__name__) from None
    return SecretStr(plaintext)


def _event(webhook: WebhookState, parsed: ParsedDelivery, clock: Clock) -> WebhookEventReceived:
    try:
        return WebhookEventReceived(
            event_id=parsed.event_id,
            provider=webhook.provider,
            webhook_id=webhook.webhook_id,
            user_id=webhook.user_id,
            event_type=parsed.event_type,
            payload=parsed.payload,
            received_at=datetime.fromtimestamp(clock(), UTC),
            headers=parsed.headers,
        )
    except ValidationError:
        # The domain bounds what a sender controls; this is the contract's last word.
        raise InvalidWebhookPayload("The delivery cannot be represented as an event.") from None


async def _publish(event: WebhookEventReceived, deps: Collaborators) -> None:
    # The bus times publishes by topic; the route counts their failures as outcomes.
    await deps.bus.publish(topics.WEBHOOK_EVENTS, event, source=SOURCE, key=event.webhook_id)
