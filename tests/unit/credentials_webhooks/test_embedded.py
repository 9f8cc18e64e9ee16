"""Webhooks in the embedded default (`make run`): created through the internal routes, read
by ingress from the compacted topic, and republished when the platform restarts, since the
in-memory bus forgets every topic."""

import asyncio
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from integrations.contracts import WebhookState
from integrations.crypto import Cipher, Purpose
from integrations.embedded.app import build_embedded_platform
from integrations.embedded.dev_secrets import load_or_create

pytestmark = pytest.mark.unit

BODY = json.dumps({"action": "opened", "number": 7}).encode()


@asynccontextmanager
async def platform(data_dir: Path) -> AsyncIterator[httpx.AsyncClient]:
    built = build_embedded_platform(data_dir)
    async with (
        LifespanManager(built.app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=built.app), base_url="http://test"
        ) as client,
    ):
        yield client


async def deliver(client: httpx.AsyncClient, ingress_path: str, secret: str) -> httpx.Response:
    signature = hmac.new(secret.encode(), BODY, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-GitHub-Event": "pull_request",
        "X-GitHub-Delivery": "delivery-1",
        "X-Hub-Signature-256": f"sha256={signature}",
    }
    # The views follow the in-memory topics in their own tasks: give them a moment.
    async with asyncio.timeout(5):
        while True:
            response = await client.post(ingress_path, content=BODY, headers=headers)
            if response.status_code < 500:
                return response
            await asyncio.sleep(0.02)


async def test_a_webhook_made_through_the_internal_route_receives_deliveries_across_restarts(
    tmp_path: Path,
) -> None:
    secrets = load_or_create(tmp_path)
    service = {"Authorization": f"Bearer {secrets.service_token}"}
    command = {
        "user_id": "user-1",
        "provider": "github",
        "webhook_type": "repo",
        "resource": "octo/repo",
        "events": ["pull_request.opened"],
        "manual": True,
        "graph_id": "graph-1",
        "graph_version": 1,
        "node_id": "node-1",
    }
    async with platform(tmp_path) as client:
        answer = await client.post(
            "/internal/triggers/activate-node", json=command, headers=service
        )
        assert answer.status_code == 200, answer.text
        webhook_id = answer.json()["webhook_id"]
        ingress_path = httpx.URL(answer.json()["ingress_url"]).path
        state = WebhookState.model_validate_json(
            (await client.get(f"/internal/webhooks/{webhook_id}", headers=service)).content
        )
        # What ingress does: the webhook-secrets key, the webhook id as associated data.
        secret = Cipher.from_key_ring(secrets.key_ring, Purpose.WEBHOOK_SECRETS).decrypt_text(
            state.secret_ciphertext, associated_data=webhook_id.encode()
        )
        assert (await deliver(client, ingress_path, secret)).status_code == 200

    # A fresh in-memory bus: ingress can only know the webhook from its republished state
    # (its read-through goes to a URL nothing serves here).
    async with platform(tmp_path) as client:
        assert (await deliver(client, ingress_path, secret)).status_code == 200
        unsigned = await client.post(ingress_path, content=BODY, headers={"X-GitHub-Event": "x"})
        assert unsigned.status_code == 403
