"""What the fault tests do to the running stack: make a GitHub webhook with triggers, sign
deliveries, read the execution requests the dispatcher published."""

import asyncio
import hashlib
import hmac
import json
import secrets
import sys
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from aiokafka import TopicPartition

from integrations.bus.kafka_readers import to_record
from integrations.contracts import GraphExecutionRequested, WebhookState, decode, topics
from integrations.crypto import Cipher, Purpose
from integrations.oauth_clients import callback_redirect_uri
from tests.e2e.leaks import LeakScan, end_offsets, raw_records_since
from tests.e2e.stack import Stack, StackFactory
from tests.harness.oauth_server import LocalAuthorizationServer, RegisteredClient

LAUNCHER = (sys.executable, str(Path(__file__).with_name("serve_with_localauth.py")))
FRONTEND = "http://frontend.test"  # where the provider sends the browser back; never fetched
CLIENT_ID = "platform-app"

BODY = json.dumps({"action": "opened", "number": 7, "repository": {"full_name": "octo/repo"}})


@dataclass(frozen=True)
class GithubWebhook:
    """A manual GitHub webhook of one user, linked to `nodes` of one graph."""

    user_id: str
    webhook_id: str
    ingress_url: str
    secret: str
    nodes: tuple[str, ...]

    def delivery(self, delivery_id: str) -> tuple[bytes, dict[str, str]]:
        """A signed `pull_request` delivery as GitHub sends it (X-Hub-Signature-256)."""
        body = BODY.encode()
        signature = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        return body, {
            "Content-Type": "application/json",
            "X-GitHub-Event": "pull_request",
            "X-GitHub-Delivery": delivery_id,
            "X-Hub-Signature-256": f"sha256={signature}",
        }

    async def send(self, http: httpx.AsyncClient, delivery_id: str) -> httpx.Response:
        body, headers = self.delivery(delivery_id)
        return await http.post(self.ingress_url, content=body, headers=headers)


async def github_webhook(
    stack: Stack, scan: LeakScan, *, nodes: tuple[str, ...] = ("node-a", "node-b")
) -> GithubWebhook:
    """Link `nodes` of one graph through the credentials service's internal route (what
    `integrations triggers activate --manual` does): one webhook, one trigger per node."""
    user_id = f"user-{uuid.uuid4().hex[:8]}"
    answers = []
    for node in nodes:
        answer = await stack.http.post(
            f"{stack.url('credentials')}/internal/triggers/activate-node",
            json={
                "user_id": user_id,
                "provider": "github",
                "webhook_type": "repo",
                "resource": "octo/repo",
                "events": ["pull_request.opened"],
                "manual": True,
                "graph_id": "graph-1",
                "graph_version": 1,
                "node_id": node,
            },
            headers=stack.internal,
        )
        assert answer.status_code == 200, answer.text
        answers.append(answer.json())
    assert len({a["webhook_id"] for a in answers}) == 1, answers
    webhook_id = answers[0]["webhook_id"]
    read = await stack.http.get(
        f"{stack.url('credentials')}/internal/webhooks/{webhook_id}", headers=stack.internal
    )
    assert read.status_code == 200, read.text
    state = WebhookState.model_validate_json(read.content)
    # What ingress does with the sealed secret: the webhook-secrets key, the id as AAD.
    cipher = Cipher.from_key_ring(stack.secrets.encryption_keys, Purpose.WEBHOOK_SECRETS)
    secret = cipher.decrypt_text(state.secret_ciphertext, associated_data=webhook_id.encode())
    scan.add_secrets(secret)
    return GithubWebhook(user_id, webhook_id, answers[0]["ingress_url"], secret, nodes)


@dataclass(frozen=True)
class Answer:
    delivery_id: str
    status: int
    sent_at: float
    answered_at: float


async def deliver(webhook: GithubWebhook, http: httpx.AsyncClient, delivery_id: str) -> Answer:
    sent_at = time.monotonic()
    response = await webhook.send(http, delivery_id)
    return Answer(delivery_id, response.status_code, sent_at, time.monotonic())


async def steady_load(
    webhook: GithubWebhook,
    http: httpx.AsyncClient,
    count: int,
    rate_per_s: float,
    answered: list[Answer],
    signal: tuple[int, asyncio.Event],
) -> None:
    """`count` fresh deliveries at a steady rate, whatever the answers take (as providers
    keep sending); `signal` = (n, event): the event is set once n of them were answered."""
    after, event = signal
    pending = []

    async def one(delivery_id: str) -> None:
        answered.append(await deliver(webhook, http, delivery_id))
        if len(answered) >= after:
            event.set()

    for _ in range(count):
        pending.append(asyncio.create_task(one(str(uuid.uuid4()))))
        await asyncio.sleep(1 / rate_per_s)
    await asyncio.gather(*pending)


async def until_accepted(webhook: GithubWebhook, http: httpx.AsyncClient, *, within: float) -> str:
    """A fresh delivery id that ingress accepted, retrying (as GitHub does) while it says 503."""
    async with asyncio.timeout(within):
        while True:
            answer = await deliver(webhook, http, str(uuid.uuid4()))
            if answer.status == 200:
                return answer.delivery_id
            assert answer.status == 503, answer
            await asyncio.sleep(0.5)


class ExecutionRequests:
    """The execution requests of one user published since `mark()`, by delivery id."""

    def __init__(self, bootstrap: str, user_id: str) -> None:
        self._bootstrap = bootstrap
        self._user_id = user_id
        self._start: dict[TopicPartition, int] = {}

    async def mark(self) -> None:
        self._start = await end_offsets(self._bootstrap, [topics.GRAPH_EXECUTION_REQUESTS])

    async def by_event(self) -> dict[str, set[str]]:
        """Event (delivery) id → the trigger nodes it was dispatched to."""
        dispatched: dict[str, set[str]] = defaultdict(set)
        for raw in await raw_records_since(self._bootstrap, self._start):
            record = to_record(raw)
            if record.key != self._user_id:
                continue
            message = decode(record.headers, record.value)
            assert isinstance(message, GraphExecutionRequested)
            dispatched[message.source.event_id].add(message.source.node_id)
        return dispatched


async def until_dispatched(
    requests: ExecutionRequests, deliveries: list[str], nodes: tuple[str, ...], *, within: float
) -> None:
    """Every delivery's requests, one per trigger node, are on the execution topic."""
    expected = set(nodes)
    missing: list[str] = list(deliveries)
    deadline = time.monotonic() + within
    while missing:
        dispatched = await requests.by_event()
        missing = [d for d in deliveries if dispatched.get(d) != expected]
        if missing and time.monotonic() > deadline:
            raise AssertionError(
                f"{len(missing)} of {len(deliveries)} acknowledged deliveries without their "
                f"requests after {within:.0f} s, e.g. {missing[0]}: {dispatched.get(missing[0])}"
            )
        if missing:
            await asyncio.sleep(2)


async def revealed(stack: Stack, user_id: str, credentials_id: str) -> dict[str, Any]:
    """A credential with its secrets, as the executor reads it. The internal route answers
    secrets by design, so this read goes through a client the leak scan does not watch."""
    async with httpx.AsyncClient(timeout=10) as unwatched:
        response = await unwatched.get(
            f"{stack.url('credentials')}/internal/users/{user_id}/credentials/{credentials_id}",
            headers=stack.internal,
        )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class Connect:
    """The browser's part of the OAuth flow, against the stack's oauth service."""

    def __init__(self, stack: Stack, user_id: str) -> None:
        self.stack = stack
        self.user_id = user_id

    async def authorize(self) -> tuple[str, str]:
        """Login URL from oauth, consent at the provider: the code and state for the callback."""
        login = await self.stack.http.get(
            f"{self.stack.url('oauth')}/api/integrations/localauth/login",
            params={"scopes": "read,write"},
            headers=self.stack.user(self.user_id),
        )
        assert login.status_code == 200, login.text
        async with httpx.AsyncClient() as browser:  # the provider's answers are not ours
            consent = await browser.get(login.json()["login_url"])
        assert consent.status_code == 302, consent.text
        query = parse_qs(urlsplit(consent.headers["location"]).query)
        return query["code"][0], query["state"][0]

    async def callback(self, code: str, state: str) -> httpx.Response:
        return await self.stack.http.post(
            f"{self.stack.url('oauth')}/api/integrations/localauth/callback",
            json={"code": code, "state_token": state},
            headers=self.stack.user(self.user_id),
        )

    async def listed(self) -> list[dict[str, Any]]:
        response = await self.stack.http.get(
            f"{self.stack.url('credentials')}/api/integrations/localauth/credentials",
            headers=self.stack.user(self.user_id),
        )
        assert response.status_code == 200, response.text
        found: list[dict[str, Any]] = response.json()
        return found


def local_authorization_server(
    scan: LeakScan, *, expires_in: int = 3600
) -> tuple[LocalAuthorizationServer, str]:
    """The provider with the platform's OAuth app registered, and that app's client secret."""
    client_secret = secrets.token_urlsafe(24)
    scan.add_secrets(client_secret)
    redirect_uri = callback_redirect_uri(FRONTEND, FRONTEND)
    server = LocalAuthorizationServer(
        clients=[RegisteredClient(CLIENT_ID, client_secret, (redirect_uri,))],
        username="ada",
        expires_in=expires_in,
    )
    return server, client_secret


async def start_with_localauth(
    stacks: StackFactory,
    provider_url: str,
    client_secret: str,
    *,
    oauth: dict[str, str] | None = None,
    credentials: dict[str, str] | None = None,
) -> Stack:
    """A stack whose oauth and credentials services know `localauth` (serve_with_localauth)."""
    app = {
        "LOCALAUTH_BASE_URL": provider_url,
        "LOCALAUTH_CLIENT_ID": CLIENT_ID,
        "LOCALAUTH_CLIENT_SECRET": client_secret,
    }
    return await stacks.start(
        overrides={
            "oauth": {**app, "FRONTEND_BASE_URL": FRONTEND, **(oauth or {})},
            "credentials": {**app, **(credentials or {})},
            "ingress": app,
            "dispatcher": app,
        },
        launcher=LAUNCHER,
    )


def issued_tokens(provider: LocalAuthorizationServer) -> list[str]:
    """Every access and refresh token the provider handed out: secrets for the leak scan."""
    return [
        value
        for token in provider.tokens
        for value in (token.access_token, token.refresh_token)
        if value is not None
    ]
