"""The webhook routes over HTTP (ASGI, in process): the user's ping (SPEC RT-8), the
internal read-through ingress relies on, and the internal trigger routes."""

import httpx
import pytest

from integrations.bus import InMemoryBus
from integrations.contracts import TriggerActivated, WebhookState, topics
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_handlers import activate_trigger
from tests.unit.credentials_webhooks.kit import (
    BASE_URL,
    CREDS,
    OTHER_USER,
    SERVICE_HEADERS,
    USER,
    FakeGitHub,
    activate_node,
    activate_preset,
    events_of,
    ping_event,
    serve,
    user_headers,
)

pytestmark = pytest.mark.unit

PING = "/api/integrations/webhooks/{}/ping"


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


async def test_ping_answers_true_once_the_ping_arrives(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC RT-8"""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook

    async def on_ping(_: str) -> None:
        await bus.publish(topics.WEBHOOK_EVENTS, ping_event(webhook.id), source="/tests")

    github.on_ping = on_ping
    async with serve(ctx, bus) as client:
        response = await client.post(PING.format(webhook.id), headers=user_headers())
    assert (response.status_code, response.json()) == (200, True)


async def test_ping_without_a_ping_event_answers_504(ctx: WebhookContext, bus: InMemoryBus) -> None:
    """SPEC RT-8: no ping event within the timeout → 504."""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    async with serve(ctx, bus) as client:
        response = await client.post(PING.format(webhook.id), headers=user_headers())
    assert response.status_code == 504
    assert error_code(response) == "timeout"


async def test_ping_of_a_manual_webhook_answers_false(
    ctx: WebhookContext, bus: InMemoryBus
) -> None:
    """SPEC RT-8: provider cannot ping → false."""
    command = activate_node(
        provider="generic_webhook",
        webhook_type="plain",
        resource="",
        manual=True,
        credentials_id=None,
    )
    webhook = (await activate_trigger(command, ctx)).webhook
    async with serve(ctx, bus) as client:
        response = await client.post(PING.format(webhook.id), headers=user_headers())
    assert (response.status_code, response.json()) == (200, False)


async def test_ping_of_another_users_webhook_is_404_like_a_missing_one(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    """SPEC RT-8, DESIGN §6"""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    async with serve(ctx, bus) as client:
        theirs = await client.post(PING.format(webhook.id), headers=user_headers(OTHER_USER))
        missing = await client.post(PING.format("missing"), headers=user_headers(OTHER_USER))
        anonymous = await client.post(PING.format(webhook.id))
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()
    assert anonymous.status_code == 401
    assert all(not path.endswith("/pings") for _, path in github.calls)


async def test_a_failing_provider_ping_answers_502(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    github.fail_with = 500
    async with serve(ctx, bus) as client:
        response = await client.post(PING.format(webhook.id), headers=user_headers())
    assert response.status_code == 502
    assert error_code(response) == "provider_error"


async def test_the_internal_route_answers_the_webhook_state_or_404(
    ctx: WebhookContext, bus: InMemoryBus
) -> None:
    """The contract ingress reads through: service token, 200 WebhookState JSON, or 404."""
    webhook = (await activate_trigger(activate_node(), ctx)).webhook
    path = f"/internal/webhooks/{webhook.id}"
    async with serve(ctx, bus) as client:
        found = await client.get(path, headers=SERVICE_HEADERS)
        missing = await client.get("/internal/webhooks/missing", headers=SERVICE_HEADERS)
        unauthenticated = await client.get(path)
        wrong_token = await client.get(path, headers={"Authorization": "Bearer nope"})
        as_a_user = await client.get(path, headers=user_headers())
    assert found.status_code == 200
    assert found.headers["cache-control"] == "no-store"
    state = WebhookState.model_validate_json(found.content)
    assert (state.webhook_id, state.user_id, state.credentials_id) == (webhook.id, USER, CREDS)
    assert missing.status_code == 404
    assert unauthenticated.status_code == 401
    assert wrong_token.status_code == as_a_user.status_code == 403
    assert webhook.secret.get_secret_value() not in found.text


async def test_triggers_can_be_activated_and_deactivated_without_kafka(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    node = activate_node().model_dump(mode="json")
    async with serve(ctx, bus) as client:
        activated = await client.post(
            "/internal/triggers/activate-node", json=node, headers=SERVICE_HEADERS
        )
        preset = await client.post(
            "/internal/triggers/activate-preset",
            json=activate_preset().model_dump(mode="json"),
            headers=SERVICE_HEADERS,
        )
        listed = await client.get(f"/internal/users/{USER}/webhooks", headers=SERVICE_HEADERS)
        node_off = await client.post(
            "/internal/triggers/deactivate-node",
            json={"user_id": USER, "graph_id": "graph-1", "graph_version": 1, "node_id": "node-1"},
            headers=SERVICE_HEADERS,
        )
        preset_off = await client.post(
            "/internal/triggers/deactivate-preset",
            json={"user_id": USER, "preset_id": "preset-1", "unlink": True, "reason": "cli"},
            headers=SERVICE_HEADERS,
        )
    assert activated.status_code == 200, activated.text
    answer = activated.json()
    webhook_id = answer["webhook_id"]
    assert answer == {
        "webhook_id": webhook_id,
        "ingress_url": f"{BASE_URL}/api/integrations/github/webhooks/{webhook_id}/ingress",
        "provider": "github",
        "manual": False,
        "new_webhook": True,
    }
    assert preset.json()["webhook_id"] == webhook_id
    assert not preset.json()["new_webhook"]
    (listed_webhook,) = listed.json()
    assert listed_webhook["webhook_id"] == webhook_id
    assert node_off.json() == {
        "webhooks": [
            {
                "webhook_id": webhook_id,
                "unlinked": [{"graph_id": "graph-1", "node_id": "node-1", "preset_id": None}],
                "pruned": False,
            }
        ]
    }
    assert preset_off.json()["webhooks"][0]["pruned"] is True
    assert github.hooks == {}
    # The routes announce like the topic does.
    assert len(events_of(bus, TriggerActivated)) == 2


async def test_internal_trigger_routes_answer_failures_with_their_code(
    ctx: WebhookContext, bus: InMemoryBus, github: FakeGitHub
) -> None:
    async with serve(ctx, bus) as client:

        async def activate(**fields: object) -> httpx.Response:
            body = activate_node(**fields).model_dump(mode="json")  # type: ignore[arg-type]
            return await client.post(
                "/internal/triggers/activate-node", json=body, headers=SERVICE_HEADERS
            )

        unknown_credentials = await activate(credentials_id="nobody")
        not_auto = await activate(provider="slack", webhook_type="events")
        github.fail_with = 403
        refused = await activate()
        invalid = await client.post(
            "/internal/triggers/activate-node",
            json={"user_id": USER, "unexpected": 1},
            headers=SERVICE_HEADERS,
        )
        unauthenticated = await client.post("/internal/triggers/activate-node", json={})
    assert (unknown_credentials.status_code, error_code(unknown_credentials)) == (
        404,
        "credentials_not_found",
    )
    assert (not_auto.status_code, error_code(not_auto)) == (400, "provider_not_supported")
    assert (refused.status_code, error_code(refused)) == (502, "provider_error")
    assert invalid.status_code == 422
    assert unauthenticated.status_code == 401
