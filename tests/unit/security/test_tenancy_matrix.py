"""Tenancy matrix on the embedded platform (all four services): Alice owns credentials of
every kind and a webhook with a logged delivery; Bob can neither see, change, delete, ping,
acquire nor redeliver any of it. Every attempt is a 404, answered exactly as for an id that
was never made, so not even existence leaks (DESIGN §6). Afterwards Alice's things are as
they were."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import httpx
import pytest

from integrations.auth import issue_dev_token
from tests.unit.credentials.kit import body, every_kind
from tests.unit.embedded.platform_session import Session, embedded_session, settle

pytestmark = pytest.mark.unit

API: Final = "/api/integrations"
ALICE: Final = "alice"
BOB: Final = "bob"
NEVER_MADE: Final = "never-made"
CREDENTIALS: Final = [(c.provider, c.id) for c in every_kind()]


@dataclass(frozen=True)
class World:
    session: Session
    webhook_id: str
    event_id: str

    def user(self, user_id: str) -> dict[str, str]:
        token = issue_dev_token(self.session.platform.secrets.jwt_secret, user_id)
        return {"Authorization": f"Bearer {token}"}

    async def deliveries(self, user_id: str) -> httpx.Response:
        return await self.session.client.get(
            f"{API}/webhooks/{self.webhook_id}/deliveries", headers=self.user(user_id)
        )


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with embedded_session(tmp_path) as session:
        client = session.client
        alice = {
            "Authorization": f"Bearer {issue_dev_token(session.platform.secrets.jwt_secret, ALICE)}"
        }
        for credentials in every_kind():
            created = await client.post(
                f"{API}/{credentials.provider}/credentials", json=body(credentials), headers=alice
            )
            assert created.status_code == 201, created.text
        activated = await client.post(
            "/internal/triggers/activate-node",
            headers=session.service_headers,
            json={
                "user_id": ALICE,
                "provider": "generic_webhook",
                "webhook_type": "plain",
                "resource": "",
                "events": ["plain"],
                "manual": True,
                "graph_id": "alices-graph",
                "graph_version": 1,
                "node_id": "alices-trigger",
            },
        )
        assert activated.status_code == 200, activated.text
        ingress_path = httpx.URL(activated.json()["ingress_url"]).path
        delivered = await client.post(ingress_path, json={"hello": "alice"})
        assert delivered.status_code == 200, delivered.text
        world = World(session, activated.json()["webhook_id"], delivered.json()["event_id"])
        await _logged(world)
        yield world


async def _logged(world: World) -> None:
    for _ in range(100):
        await settle(world.session)
        listed = await world.deliveries(ALICE)
        if listed.status_code == 200 and listed.json()["items"]:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("Alice's delivery was never logged")


@dataclass(frozen=True)
class Attempt:
    """One request Bob makes; `{id}` stands for the id of Alice's thing (or a never-made
    one), `{event}` for her delivery's event id."""

    method: str
    path: str
    as_service: bool = False
    json: dict[str, Any] | None = None
    params: dict[str, str] | None = None


def _credential_attempts(provider: str, credentials_id: str) -> dict[str, Attempt]:
    user_route = f"{API}/{provider}/credentials/{{id}}"
    internal = f"/internal/users/{BOB}/credentials/{{id}}"
    kind = next(c for c in every_kind() if c.id == credentials_id)
    return {
        "RT-4 see": Attempt("GET", user_route),
        "CS-5 change": Attempt("PUT", user_route, json=body(kind)),
        "RT-6 delete": Attempt("DELETE", user_route),
        "RT-6 force-delete": Attempt("DELETE", user_route, params={"force": "true"}),
        "CM-1 read internally": Attempt("GET", internal, as_service=True),
        "CM-2 acquire": Attempt("POST", f"{internal}/leases", as_service=True),
    }


DELIVERY: Final = f"{API}/webhooks/{{id}}/deliveries/{{event}}"
WEBHOOK_ATTEMPTS: Final = {
    "RT-8 ping": Attempt("POST", f"{API}/webhooks/{{id}}/ping"),
    "see its deliveries": Attempt("GET", f"{API}/webhooks/{{id}}/deliveries"),
    "see one delivery": Attempt("GET", DELIVERY),
    "redeliver a delivery": Attempt("POST", f"{DELIVERY}/redeliver"),
}


async def _attempt(world: World, attempt: Attempt, target: str) -> httpx.Response:
    path = attempt.path.replace("{id}", target).replace("{event}", world.event_id)
    headers = world.session.service_headers if attempt.as_service else world.user(BOB)
    return await world.session.client.request(
        attempt.method, path, headers=headers, json=attempt.json, params=attempt.params
    )


async def _refusals(world: World, attempts: dict[str, Attempt], target: str) -> dict[str, str]:
    """What went otherwise than the 404 of a never-made id, by attempt."""
    failures = {}
    for name, attempt in attempts.items():
        theirs = await _attempt(world, attempt, target)
        absent = await _attempt(world, attempt, NEVER_MADE)
        if theirs.status_code != 404 or absent.status_code != 404:
            failures[name] = f"{theirs.status_code} {theirs.text[:200]}"
        elif theirs.json() != absent.json():
            failures[name] = f"{theirs.json()} differs from {absent.json()}"
    return failures


@pytest.mark.parametrize(("provider", "credentials_id"), CREDENTIALS)
async def test_bob_gets_the_404_of_a_never_made_id_for_any_use_of_alices_credentials(
    world: World, provider: str, credentials_id: str
) -> None:
    """SPEC RT-4, CS-5, RT-6, CM-1, CM-2, for every kind of credentials (CS-1)."""
    attempts = _credential_attempts(provider, credentials_id)
    assert await _refusals(world, attempts, credentials_id) == {}
    await _alice_still_has_everything(world)


async def test_bob_gets_the_404_of_a_never_made_id_for_any_use_of_alices_webhook(
    world: World,
) -> None:
    """SPEC RT-8 (ping) and the dispatcher's delivery log of the webhook."""
    assert await _refusals(world, WEBHOOK_ATTEMPTS, world.webhook_id) == {}
    await _alice_still_has_everything(world)


async def test_bob_lists_none_of_alices_credentials_or_webhooks(world: World) -> None:
    client, service = world.session.client, world.session.service_headers
    listed = await client.get(f"{API}/credentials", headers=world.user(BOB))
    assert listed.status_code == 200
    assert not {c["id"] for c in listed.json()} & {c_id for _, c_id in CREDENTIALS}
    for provider, _ in CREDENTIALS:
        by_provider = await client.get(f"{API}/{provider}/credentials", headers=world.user(BOB))
        assert by_provider.status_code == 200
        assert not {c["id"] for c in by_provider.json()} & {c_id for _, c_id in CREDENTIALS}
    webhooks = await client.get(f"/internal/users/{BOB}/webhooks", headers=service)
    assert webhooks.status_code == 200
    assert webhooks.json() == []


async def test_bob_cannot_unlink_alices_trigger_by_naming_her_webhook(world: World) -> None:
    """Changing a webhook goes through its triggers; Bob's command finds none of hers."""
    answer = await world.session.client.post(
        "/internal/triggers/deactivate-node",
        headers=world.session.service_headers,
        json={
            "user_id": BOB,
            "graph_id": "alices-graph",
            "graph_version": 1,
            "node_id": "alices-trigger",
            "webhook_id": world.webhook_id,
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"webhooks": []}
    await settle(world.session)
    await _alice_still_has_everything(world)


async def _alice_still_has_everything(world: World) -> None:
    client = world.session.client
    mine = await client.get(f"{API}/credentials", headers=world.user(ALICE))
    assert {c_id for _, c_id in CREDENTIALS} <= {c["id"] for c in mine.json()}
    webhooks = await client.get(
        f"/internal/users/{ALICE}/webhooks", headers=world.session.service_headers
    )
    [webhook] = webhooks.json()
    assert webhook["webhook_id"] == world.webhook_id
    assert len(webhook["node_triggers"]) == 1
    deliveries = await world.deliveries(ALICE)
    assert [d["event_id"] for d in deliveries.json()["items"]] == [world.event_id]


async def test_bob_cannot_extend_or_release_alices_lease(world: World) -> None:
    """SPEC CM-2, CM-6: leases are the user's too. Bob's heartbeat and release of her lease
    answer as for a lease that never was, and she still holds it."""
    client, service = world.session.client, world.session.service_headers
    _, credentials_id = CREDENTIALS[0]
    alices = f"/internal/users/{ALICE}/credentials/{credentials_id}/leases"
    bobs = f"/internal/users/{BOB}/credentials/{credentials_id}/leases"
    acquired = await client.post(alices, headers=service)
    assert acquired.status_code == 200, acquired.text
    lease_id = acquired.json()["lease_id"]
    for method, suffix in (("POST", "/heartbeat"), ("DELETE", "")):
        theirs = await client.request(method, f"{bobs}/{lease_id}{suffix}", headers=service)
        absent = await client.request(method, f"{bobs}/{NEVER_MADE}{suffix}", headers=service)
        assert (theirs.status_code, theirs.json()) == (absent.status_code, absent.json())
        assert theirs.status_code != 200 or theirs.json() == {"released": False}
    extended = await client.post(f"{alices}/{lease_id}/heartbeat", headers=service)
    assert extended.status_code == 200, extended.text
