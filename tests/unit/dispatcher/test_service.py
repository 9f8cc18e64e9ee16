"""The dispatcher as the embedded default runs it: composed by bootstrap on the in-memory bus
and an embedded store, driven through the bus and its HTTP routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager

from integrations.auth import issue_dev_token
from integrations.bus import InMemoryBus
from integrations.contracts import (
    DeactivatePresetTrigger,
    ExecutionSource,
    GraphExecutionRejected,
    GraphExecutionRequested,
    Message,
    UnlinkGraphTriggers,
    WebhookEventReceived,
    decode,
    decode_as,
    topics,
)
from integrations.dispatcher.bootstrap import SERVICE
from integrations.dispatcher.domain.request_ids import request_id
from integrations.runtime.definition import Dependencies
from integrations.runtime.hosting import host_units
from tests.unit.dispatcher.kit import (
    NOW,
    PR_FILTER,
    SOURCE,
    USER,
    WEBHOOK,
    event,
    node,
    preset,
    webhook,
)

pytestmark = pytest.mark.unit

SECRET = "s" * 32
STATE = webhook(nodes=[node("n-1", filter=PR_FILTER)], presets=[preset("p-1")])
BASE = f"/api/integrations/webhooks/{WEBHOOK}/deliveries"


@dataclass
class Service:
    bus: InMemoryBus
    client: httpx.AsyncClient

    async def publish(self, *messages: Message) -> None:
        for message in messages:
            await self.bus.publish(message.topic, message, source=SOURCE)
        await self.bus.drain()

    async def get(self, path: str, user: str = USER, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=auth(user))

    async def post(self, path: str, user: str = USER) -> httpx.Response:
        return await self.client.post(path, headers=auth(user))

    def on(self, topic: str) -> list[Message]:
        return [decode(r.headers, r.value) for p in self.bus.log_of(topic) for r in p]

    def requests(self) -> list[GraphExecutionRequested]:
        return [
            decode_as(GraphExecutionRequested, r.value)
            for p in self.bus.log_of(topics.GRAPH_EXECUTION_REQUESTS)
            for r in p
        ]


def auth(user: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_dev_token(SECRET, user)}"}


@asynccontextmanager
async def running(**settings: Any) -> AsyncIterator[Service]:
    bus = InMemoryBus(redelivery_delay_s=0.01)
    config = SERVICE.load_settings(
        database_url="memory://", jwt_secret=SECRET, unknown_webhook_grace_s=0, **settings
    )
    deps = Dependencies(bus, config.database_url)
    app = host_units(
        [SERVICE.build(config, deps)],
        title="dispatcher",
        version="test",
        bus=bus,
        auth=config.auth_config(),
        closers=[deps.close],
    )
    async with (
        LifespanManager(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        yield Service(bus, client)


def pr_event(number: int, event_type: str = "pull_request.opened") -> WebhookEventReceived:
    return event(
        f"ev-{number}",
        event_type=event_type,
        payload={"number": number},
        received_at=NOW + timedelta(minutes=number),
    )


async def test_it_is_ready_once_its_store_and_webhook_view_are() -> None:
    async with running() as service:
        response = await service.client.get("/readyz")
        assert response.status_code == 200
        assert response.json()["checks"] == {
            "bus": True,
            "dispatcher.database": True,
            "dispatcher.webhooks_view": True,
        }


async def test_events_on_the_bus_become_execution_requests_and_deliveries() -> None:
    async with running() as service:
        await service.publish(STATE, pr_event(1), pr_event(2, "pull_request.closed"))

        assert sorted((r.source.event_id, r.graph_id) for r in service.requests()) == [
            ("ev-1", "graph-1"),
            ("ev-1", "graph-2"),
            ("ev-2", "graph-2"),
        ]
        response = await service.get(BASE)
        assert response.status_code == 200
        page = response.json()
        assert [(d["event_id"], d["outcome"]) for d in page["items"]] == [
            ("ev-2", "dispatched"),
            ("ev-1", "dispatched"),
        ]
        assert page["next_cursor"] is None
        assert set(page["items"][1]["request_ids"]) == {
            r.request_id for r in service.requests() if r.source.event_id == "ev-1"
        }


async def test_deliveries_page_newest_first_and_filter_by_outcome() -> None:
    async with running() as service:
        no_triggers = webhook()
        await service.publish(no_triggers, *(pr_event(n) for n in range(5)))

        seen: list[str] = []
        cursor = None
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = (await service.get(BASE, **params)).json()
            seen += [item["event_id"] for item in page["items"]]
            if not (cursor := page["next_cursor"]):
                break
        assert seen == ["ev-4", "ev-3", "ev-2", "ev-1", "ev-0"]

        await service.publish(STATE, pr_event(9))
        dispatched = (await service.get(BASE, outcome="dispatched")).json()["items"]
        skipped = (await service.get(BASE, outcome="skipped")).json()["items"]
        assert [d["event_id"] for d in dispatched] == ["ev-9"]
        assert len(skipped) == 5


async def test_one_delivery_shows_its_dispatches_payload_and_skipped_triggers() -> None:
    async with running() as service:
        await service.publish(STATE, pr_event(1, "pull_request.closed"))
        response = await service.get(f"{BASE}/ev-1")
        assert response.status_code == 200
        body = response.json()
        assert body["payload"] == {"number": 1}
        assert body["headers"] == {"x-github-delivery": "ev-1"}
        assert body["redeliverable"] is True
        [dispatch] = body["dispatches"]
        assert dispatch["outcome"] == "dispatched"
        assert [s["node_id"] for s in dispatch["skipped"]] == ["n-1"]
        assert dispatch["skipped"][0]["reason"] == "filter_mismatch"


async def test_a_redelivery_gets_new_request_ids_deterministic_per_redelivery_number() -> None:
    async with running() as service:
        await service.publish(STATE, pr_event(1))
        original = {r.request_id for r in service.requests()}

        first = await service.post(f"{BASE}/ev-1/redeliver")
        second = await service.post(f"{BASE}/ev-1/redeliver")
        assert first.status_code == second.status_code == 200

        def ids(number: int) -> set[str]:
            targets = ["node:graph-1:n-1", "preset:p-1"]
            return {
                request_id(webhook_id=WEBHOOK, event_id="ev-1", target=t, redelivery=number)
                for t in targets
            }

        assert {r["request_id"] for r in first.json()["requests"]} == ids(1)
        assert {r["request_id"] for r in second.json()["requests"]} == ids(2)
        assert original == ids(0)
        assert {r.request_id: r.redelivery for r in service.requests()} == {
            **dict.fromkeys(ids(0), 0),
            **dict.fromkeys(ids(1), 1),
            **dict.fromkeys(ids(2), 2),
        }
        detail = (await service.get(f"{BASE}/ev-1")).json()
        assert detail["redeliveries"] == 2
        assert [d["redelivery"] for d in detail["dispatches"]] == [0, 1, 2]


async def test_another_users_webhook_is_not_found_like_a_missing_one() -> None:
    async with running() as service:
        await service.publish(STATE, pr_event(1))
        for response in (
            await service.get(BASE, user="mallory"),
            await service.get(f"{BASE}/ev-1", user="mallory"),
            await service.post(f"{BASE}/ev-1/redeliver", user="mallory"),
            await service.get("/api/integrations/webhooks/wh-missing/deliveries"),
            await service.get(f"{BASE}/ev-missing"),
        ):
            assert response.status_code == 404
            assert response.json()["error"]["code"] == "not_found"
        assert len(service.requests()) == 2


async def test_a_pruned_webhooks_deliveries_stay_readable_by_their_owner_only() -> None:
    async with running() as service:
        await service.publish(STATE, pr_event(1))
        await service.bus.publish(topics.WEBHOOKS, None, key=WEBHOOK, source=SOURCE)
        await service.bus.drain()
        assert (await service.get(BASE)).json()["items"][0]["event_id"] == "ev-1"
        assert (await service.get(BASE, user="mallory")).status_code == 404


async def test_the_routes_need_a_bearer_token() -> None:
    async with running() as service:
        assert (await service.client.get(BASE)).status_code == 401


async def test_a_cursor_it_never_issued_is_a_bad_request() -> None:
    async with running() as service:
        await service.publish(STATE)
        response = await service.get(BASE, cursor="bm90IGEgY3Vyc29y")
        assert response.status_code == 400


async def test_an_event_too_large_to_keep_is_logged_but_cannot_be_redelivered() -> None:
    async with running(delivery_log_max_event_bytes=100) as service:
        await service.publish(STATE, event("big", payload={"blob": "x" * 500}))
        detail = (await service.get(f"{BASE}/big")).json()
        assert (detail["redeliverable"], detail["payload"], detail["outcome"]) == (
            False,
            None,
            "dispatched",
        )
        response = await service.post(f"{BASE}/big/redeliver")
        assert response.status_code == 409
        assert response.json()["error"]["code"] == "event_not_kept"


async def test_an_event_id_with_slashes_is_addressable() -> None:
    async with running() as service:
        await service.publish(STATE, event("a/b/c"))
        assert (await service.get(f"{BASE}/a/b/c")).json()["event_id"] == "a/b/c"
        assert (await service.post(f"{BASE}/a/b/c/redeliver")).status_code == 200


@pytest.mark.parametrize(
    ("reason", "preset_id", "command_type"),
    [
        ("graph_not_in_library", None, UnlinkGraphTriggers),
        ("graph_not_accessible", "p-1", DeactivatePresetTrigger),
    ],
)
async def test_an_executor_rejection_becomes_the_right_trigger_command(
    reason: str, preset_id: str | None, command_type: type[Message]
) -> None:
    """SPEC RT-9, RT-10"""
    rejection = GraphExecutionRejected.model_validate(
        {
            "request_id": "r-1",
            "user_id": USER,
            "graph_id": "graph-2",
            "preset_id": preset_id,
            "reason": reason,
            "source": ExecutionSource(
                webhook_id=WEBHOOK,
                provider="github",
                event_id="ev-1",
                event_type="push",
                node_id="node-9",
            ).model_dump(),
        }
    )
    async with running() as service:
        await service.publish(rejection)
        [command] = service.on(topics.TRIGGER_COMMANDS)
        assert isinstance(command, command_type)
        assert command.model_dump(include={"user_id", "webhook_id"}) == {
            "user_id": USER,
            "webhook_id": WEBHOOK,
        }


async def test_other_execution_results_are_ignored() -> None:
    async with running() as service:
        await service.bus.publish_raw(
            topics.GRAPH_EXECUTION_RESULTS,
            USER,
            b'{"status": "completed"}',
            [("ce_type", b"platform.graph-execution.completed.v1")],
        )
        await service.bus.drain()
        assert service.on(topics.TRIGGER_COMMANDS) == []
