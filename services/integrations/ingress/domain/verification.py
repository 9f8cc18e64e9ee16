"""Which scheme verifies a provider's deliveries, and the verification step itself (SPEC WH-5).

The scheme is data: `WebhookConfig.signature_scheme` (and `signature_header`) from the provider
registry pick an entry of `SCHEMES`; no provider name appears in this module.

    verified = verify_request(config=registry.webhook_config(provider), provider=provider,
                              webhook_id=webhook.id, webhook_type=webhook.webhook_type,
                              headers=request.headers, body=await request.body(),
                              secret=webhook.secret)
    delivery = parse_delivery(verified)          # integrations.ingress.domain.events
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from pydantic import SecretStr

from integrations.ingress.domain.schemes.base import WebhookScheme
from integrations.ingress.domain.schemes.github import GitHubScheme
from integrations.ingress.domain.schemes.hmac_sha256 import HmacSha256Scheme
from integrations.ingress.domain.schemes.slack import SlackScheme
from integrations.ingress.domain.schemes.standard_webhooks import StandardWebhooksScheme
from integrations.ingress.domain.schemes.stripe import StripeScheme
from integrations.ingress.domain.schemes.telegram import TelegramScheme
from integrations.ingress.domain.schemes.unsigned import UnsignedScheme
from integrations.ingress.domain.types import Clock, Headers, lowercase_headers
from integrations.providers import SignatureScheme, WebhookConfig


class SchemeConstructor(Protocol):
    def __call__(self, *, signature_header: str | None, clock: Clock) -> WebhookScheme: ...


SCHEMES: Mapping[SignatureScheme, SchemeConstructor] = {
    "github": GitHubScheme,
    "stripe": StripeScheme,
    "slack": SlackScheme,
    "standard_webhooks": StandardWebhooksScheme,
    "telegram": TelegramScheme,
    "hmac_sha256": HmacSha256Scheme,
    "none": UnsignedScheme,
}


def scheme_for(config: WebhookConfig, *, clock: Clock = time.time) -> WebhookScheme:
    return SCHEMES[config.signature_scheme](signature_header=config.signature_header, clock=clock)


@dataclass(frozen=True, kw_only=True, slots=True)
class VerifiedRequest:
    """A request whose signature passed. Only `verify_request` makes one, so code that parses
    (`events.parse_delivery`) cannot be handed an unverified body."""

    provider: str
    webhook_id: str
    webhook_type: str
    config: WebhookConfig
    scheme: WebhookScheme
    headers: dict[str, str]  # names lowercased
    body: bytes


def verify_request(
    *,
    config: WebhookConfig,
    provider: str,
    webhook_id: str,
    webhook_type: str,
    headers: Headers,
    body: bytes,
    secret: SecretStr | None,
    clock: Clock = time.time,
) -> VerifiedRequest:
    """Verify the raw body with the provider's scheme, before anything is parsed.

    Raises `InvalidWebhookSignature` (403) and nothing else: a missing, malformed, wrong or
    stale signature, or a signed scheme with no secret (fails closed; an empty secret counts as
    missing). Body problems are `parse_delivery`'s, as `InvalidWebhookPayload` (400).
    """
    lowered = lowercase_headers(headers)
    scheme = scheme_for(config, clock=clock)
    scheme.verify(headers=lowered, body=body, secret=secret)
    return VerifiedRequest(
        provider=provider,
        webhook_id=webhook_id,
        webhook_type=webhook_type,
        config=config,
        scheme=scheme,
        headers=lowered,
        body=body,
    )
