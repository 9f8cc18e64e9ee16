"""No secret leaves: neither a webhook's signing secret in clear nor the user's token shows
in any HTTP answer, log line or bus record, whatever happens (DESIGN §6, SPEC RT-14)."""

import dataclasses
import logging

import httpx
import pytest
from pydantic import SecretStr

from integrations.bus import InMemoryBus
from integrations.contracts import DeactivateNodeTrigger, topics
from integrations.credentials.webhook_context import WebhookContext, new_webhook_secret
from integrations.credentials.webhook_handlers import activate_trigger, deactivate_node_trigger
from integrations.credentials.webhook_upkeep import LinkedWebhooks, republish_webhooks
from tests.unit.credentials_webhooks.kit import (
    CREDS,
    SERVICE_HEADERS,
    TOKEN,
    USER,
    FakeGitHub,
    activate_node,
    activate_preset,
    ping_event,
    serve,
    user_headers,
)

pytestmark = pytest.mark.unit


async def test_secrets_never_reach_answers_logs_or_records(
    ctx: WebhookContext,
    bus: InMemoryBus,
    github: FakeGitHub,
    caplog: pytest.LogCaptureFixture,
) -> None:
    made: list[str] = []

    def recorded_secret() -> SecretStr:
        secret = new_webhook_secret()
        made.append(secret.get_secret_value())
        return secret

    ctx = dataclasses.replace(ctx, new_secret=recorded_secret)
    caplog.set_level(logging.DEBUG)
    answers: list[httpx.Response] = []
    async with serve(ctx, bus) as client:

        async def post(path: str, body: object, headers: dict[str, str]) -> None:
            answers.append(await client.post(path, json=body, headers=headers))

        await post(
            "/internal/triggers/activate-node",
            activate_node("n1").model_dump(mode="json"),
            SERVICE_HEADERS,
        )
        manual = activate_preset(
            provider="generic_webhook", webhook_type="plain", manual=True, credentials_id=None
        )
        await post(
            "/internal/triggers/activate-preset", manual.model_dump(mode="json"), SERVICE_HEADERS
        )
        webhook_id = answers[0].json()["webhook_id"]

        async def on_ping(_: str) -> None:
            await bus.publish(topics.WEBHOOK_EVENTS, ping_event(webhook_id), source="/tests")

        github.on_ping = on_ping
        await post(f"/api/integrations/webhooks/{webhook_id}/ping", None, user_headers())
        answers.append(
            await client.get(f"/internal/webhooks/{webhook_id}", headers=SERVICE_HEADERS)
        )
        answers.append(
            await client.get(f"/internal/users/{USER}/webhooks", headers=SERVICE_HEADERS)
        )
        github.fail_with = 422  # provider refusals quote GitHub, never the request
        await post(
            "/internal/triggers/activate-node",
            activate_node("n2", events=["push"]).model_dump(mode="json"),
            SERVICE_HEADERS,
        )
        github.fail_with = 500
        await deactivate_node_trigger(
            DeactivateNodeTrigger(user_id=USER, graph_id="graph-1", graph_version=1, node_id="n1"),
            ctx,
        )
        github.fail_with = None
        await activate_trigger(activate_node("n3", events=["issues"]), ctx)
        await LinkedWebhooks(ctx).release(USER, CREDS)
        await republish_webhooks(ctx)
    await bus.drain()

    assert len(made) >= 3
    assert [r.status_code for r in answers[:5]] == [200, 200, 200, 200, 200]
    secrets = [TOKEN, *made]
    texts = [r.text for r in answers] + [str(dict(r.headers)) for r in answers]
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.__dict__) for record in caplog.records]
    for topic in (topics.WEBHOOKS, topics.TRIGGER_EVENTS, topics.WEBHOOK_EVENTS):
        for partition in bus.log_of(topic):
            for record in partition:
                texts.append((record.value or b"").decode())
                texts.append(str(record.headers))
    assert len(texts) > 20
    for text in texts:
        for secret in secrets:
            assert secret not in text
