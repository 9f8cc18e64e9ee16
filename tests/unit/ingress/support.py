"""Signing the way each provider does, written from the providers' docs independently of the
code under test, and shortcuts to run a request through verify + parse."""

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from integrations.ingress.domain.events import ParsedDelivery, parse_delivery
from integrations.ingress.domain.verification import VerifiedRequest, verify_request
from integrations.providers import WebhookConfig, build_registry

NOW = 1_700_000_000
REGISTRY = build_registry()
VECTORS_COPY = Path(__file__).parent / "vectors" / "signatures.json"
# The shared folder sits beside the repository root (CI clones it there too).
VECTORS_SHARED = Path(__file__).resolve().parents[3].parent / "shared/test-vectors/signatures.json"


def vectors() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(VECTORS_COPY.read_text())
    return loaded


def config_of(provider: str) -> WebhookConfig:
    config = REGISTRY.webhook_config(provider)
    assert config is not None
    return config


def verify(
    provider: str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    secret: str | None,
    now: float = NOW,
    webhook_type: str = "",
    config: WebhookConfig | None = None,
) -> VerifiedRequest:
    return verify_request(
        config=config or config_of(provider),
        provider=provider,
        webhook_id="wh-1",
        webhook_type=webhook_type,
        headers=headers,
        body=body,
        secret=None if secret is None else SecretStr(secret),
        clock=lambda: now,
    )


def receive(
    provider: str,
    *,
    headers: Mapping[str, str],
    body: bytes,
    secret: str | None,
    now: float = NOW,
    webhook_type: str = "",
    config: WebhookConfig | None = None,
) -> ParsedDelivery:
    verified = verify(
        provider,
        headers=headers,
        body=body,
        secret=secret,
        now=now,
        webhook_type=webhook_type,
        config=config,
    )
    return parse_delivery(verified)


def hex_hmac(key: bytes, message: bytes) -> str:
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def github_signature(secret: str, body: bytes) -> str:
    return "sha256=" + hex_hmac(secret.encode(), body)


def stripe_signature(
    secret: str, body: bytes, timestamp: int, *, also: tuple[str, ...] = ()
) -> str:
    """`also`: further secrets signing the same request, as while a Stripe secret rolls."""
    signed = f"{timestamp}.".encode() + body
    parts = [f"t={timestamp}"] + [f"v1={hex_hmac(s.encode(), signed)}" for s in (secret, *also)]
    return ",".join(parts)


def slack_headers(secret: str, body: bytes, timestamp: int) -> dict[str, str]:
    signed = f"v0:{timestamp}:".encode() + body
    return {
        "X-Slack-Request-Timestamp": str(timestamp),
        "X-Slack-Signature": "v0=" + hex_hmac(secret.encode(), signed),
    }


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{message_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def standard_headers(
    secrets: list[str], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    signatures = " ".join(standard_signature(s, message_id, timestamp, body) for s in secrets)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signatures,
    }


def json_body(value: object) -> bytes:
    return json.dumps(value).encode()
