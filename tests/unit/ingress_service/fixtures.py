"""Builders the ingress service's unit tests share: webhooks, signed requests, collaborators."""

import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from integrations.bus import InMemoryBus
from integrations.contracts import WebhookState
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key
from integrations.ingress.adapters.metrics import IngressMetrics
from integrations.ingress.bootstrap import WebhookConfigTable
from integrations.ingress.handlers import Collaborators
from integrations.providers import default_registry

NOW = 1_750_000_000.0
SECRET = "whsec-unit-test-marker-9f8e7d6c5b4a"
ROOT_RING = KeyRing([generate_root_key("k1")])
CIPHER = Cipher.from_key_ring(ROOT_RING.export(), Purpose.WEBHOOK_SECRETS)
PR_BODY = json.dumps({"action": "opened", "number": 7, "pull_request": {"title": "x"}}).encode()


def webhook(
    webhook_id: str = "wh-1",
    *,
    provider: str = "github",
    secret: str = SECRET,
    sealed_for: str | None = None,
) -> WebhookState:
    """`sealed_for`: encrypt the secret for another webhook id (a moved ciphertext)."""
    return WebhookState(
        webhook_id=webhook_id,
        user_id="user-1",
        provider=provider,
        credentials_id="cred-1",
        webhook_type="repo",
        resource="octo/repo",
        events=["pull_request"],
        secret_ciphertext=CIPHER.encrypt_text(
            secret, associated_data=(sealed_for or webhook_id).encode()
        ),
        provider_webhook_id="123",
        manual=False,
        ingress_url=f"http://test/api/integrations/{provider}/webhooks/{webhook_id}/ingress",
        version=1,
        updated_at=datetime(2025, 1, 1, tzinfo=UTC),
    )


def github_headers(
    body: bytes, *, secret: str = SECRET, event: str = "pull_request"
) -> dict[str, str]:
    signature = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "Content-Type": "application/json",
        "User-Agent": "GitHub-Hookshot/abc",
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": "d-1",
        "X-Hub-Signature-256": f"sha256={signature}",
    }


def slack_headers(body: bytes, *, secret: str = SECRET, timestamp: float = NOW) -> dict[str, str]:
    ts = str(int(timestamp))
    digest = hmac.new(secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest.hexdigest()}",
    }


class FakeLookup:
    def __init__(self, *webhooks: WebhookState) -> None:
        self.rows = {w.webhook_id: w for w in webhooks}
        self.asked: list[str] = []
        self.error: Exception | None = None

    async def find(self, webhook_id: str) -> WebhookState | None:
        self.asked.append(webhook_id)
        if self.error is not None:
            raise self.error
        return self.rows.get(webhook_id)


def collaborators(bus: InMemoryBus, lookup: FakeLookup) -> Collaborators:
    return Collaborators(
        providers=WebhookConfigTable(default_registry()),
        webhooks=lookup,
        cipher=CIPHER,
        bus=bus,
        clock=lambda: NOW,
    )


def metrics() -> tuple[IngressMetrics, InMemoryMetricReader]:
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    known = WebhookConfigTable(default_registry())
    return IngressMetrics(provider.get_meter("test"), known), reader


def points(reader: InMemoryMetricReader, name: str) -> list[tuple[dict[str, Any], Any]]:
    """(attributes, data point) of metric `name`."""
    data = reader.get_metrics_data()
    found: list[tuple[dict[str, Any], Any]] = []
    for resource in data.resource_metrics if data else []:
        for scope in resource.scope_metrics:
            for metric in scope.metrics:
                if metric.name == name:
                    found.extend((dict(p.attributes or {}), p) for p in metric.data.data_points)
    return found
