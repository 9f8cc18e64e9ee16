"""The MongoDB-wire server stops while credentials are being created, then starts again on the
same port with the same data (DESIGN §2: every service keeps working state only in its own
database, so a database outage must cost availability, never integrity).

While it is down the credentials routes answer 503 in the one JSON error shape with a message
a user can act on; afterwards the same processes serve again, and each credential created
around the stop either exists whole (its secret decrypts to what was sent) or not at all."""

import asyncio
import os
import time
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest

from tests.e2e.kit import revealed
from tests.e2e.leaks import LeakScan
from tests.e2e.stack import Stack, StackFactory
from tests.harness.mongo import MongoWireServer

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

BURST = 40
BURST_SPACING_S = 0.05  # two seconds of creates; the server stops half a second in
STOP_AFTER_S = 0.5
READY_WITHIN_S = 60.0
# Each database call gives up after this (the services' default is 5 s): a 503 a second
# sooner keeps the test short without changing what it proves.
GIVE_UP_MS = 1500


def credential(credentials_id: str, api_key: str) -> dict[str, Any]:
    return {
        "type": "api_key",
        "id": credentials_id,
        "provider": "openai",
        "title": f"key {credentials_id}",
        "api_key": api_key,
    }


async def create(stack: Stack, user: str, body: dict[str, Any]) -> httpx.Response:
    return await stack.http.post(
        f"{stack.url('credentials')}/api/integrations/openai/credentials",
        json=body,
        headers=stack.user(user),
    )


async def test_credentials_answer_503_while_the_database_is_down_and_keep_no_half_record(
    stacks: StackFactory, leak_scan: LeakScan, mongo_fault_server: MongoWireServer
) -> None:
    impatient = f"{mongo_fault_server.uri}?serverSelectionTimeoutMS={GIVE_UP_MS}"
    stack = await stacks.start(
        overrides={
            name: {"DATABASE_URL": impatient} for name in ("credentials", "oauth", "dispatcher")
        }
    )
    user = f"user-{uuid.uuid4().hex[:8]}"
    keys = {f"cred-{n}": f"sk-{os.urandom(16).hex()}" for n in range(BURST + 1)}
    leak_scan.add_secrets(*keys.values())
    credentials = stack.url("credentials")
    assert (await create(stack, user, credential("cred-0", keys["cred-0"]))).status_code == 201

    async def burst() -> dict[str, int]:
        answers: dict[str, asyncio.Task[httpx.Response]] = {}
        for n in range(1, BURST + 1):
            body = credential(f"cred-{n}", keys[f"cred-{n}"])
            answers[f"cred-{n}"] = asyncio.create_task(create(stack, user, body))
            await asyncio.sleep(BURST_SPACING_S)
        return {cid: (await task).status_code for cid, task in answers.items()}

    async def stop_midway() -> None:
        await asyncio.sleep(STOP_AFTER_S)
        await mongo_fault_server.astop()

    statuses, _ = await asyncio.gather(burst(), stop_midway())
    assert set(statuses.values()) <= {201, 503}, Counter(statuses.values())
    assert Counter(statuses.values())[503] > 0, "the server stopped after the burst"

    # Down: every kind of credentials route says so, in the error shape, promptly.
    user_headers = stack.user(user)
    attempts = [
        stack.http.get(f"{credentials}/api/integrations/credentials", headers=user_headers),
        stack.http.get(
            f"{credentials}/api/integrations/openai/credentials/cred-0", headers=user_headers
        ),
        stack.http.put(
            f"{credentials}/api/integrations/openai/credentials/cred-0",
            json=credential("cred-0", keys["cred-0"]),
            headers=user_headers,
        ),
        stack.http.delete(
            f"{credentials}/api/integrations/openai/credentials/cred-0", headers=user_headers
        ),
        create(stack, user, credential("cred-down", keys[f"cred-{BURST}"])),
        stack.http.get(f"{credentials}/internal/users/{user}/webhooks", headers=stack.internal),
    ]
    for attempt in attempts:
        started = time.monotonic()
        response = await attempt
        where = f"{response.request.method} {response.request.url.path}"
        assert response.status_code == 503, (where, response.status_code, response.text)
        assert response.json()["error"]["code"] == "storage_unavailable", where
        assert "database is unavailable" in response.json()["error"]["message"], where
        assert response.headers["Retry-After"], where
        assert time.monotonic() - started < 30, f"{where} took too long to give up"
    assert (await stack.http.get(f"{credentials}/readyz")).status_code == 503

    await mongo_fault_server.astart()
    await until_ready(stack)

    # Back, with the same processes: each credential is whole or absent.
    listed = await stack.http.get(
        f"{credentials}/api/integrations/credentials", headers=user_headers
    )
    assert listed.status_code == 200, listed.text
    present = {c["id"] for c in listed.json() if c["id"].startswith("cred-")}
    assert {cid for cid, status in statuses.items() if status == 201} <= present
    assert "cred-down" not in present
    for credentials_id in sorted(present):
        assert await stored_key(stack, user, credentials_id) == keys[credentials_id]
    absent = sorted(set(statuses) - present)
    for credentials_id in absent:  # what never landed can be created now, once
        body = credential(credentials_id, keys[credentials_id])
        assert (await create(stack, user, body)).status_code == 201
        assert (await create(stack, user, body)).status_code == 409
        assert await stored_key(stack, user, credentials_id) == keys[credentials_id]
    deleted = await stack.http.delete(
        f"{credentials}/api/integrations/openai/credentials/cred-0", headers=user_headers
    )
    assert deleted.status_code == 200, deleted.text
    assert stack.restarted() == []
    print(f"\nburst: {dict(Counter(statuses.values()))}; {len(absent)} created again afterwards")


async def stored_key(stack: Stack, user: str, credentials_id: str) -> str:
    key: str = (await revealed(stack, user, credentials_id))["api_key"]
    return key


async def until_ready(stack: Stack) -> None:
    """Every service reports ready again, by itself (no restart)."""
    async with asyncio.timeout(READY_WITHIN_S):
        for name in stack.services:
            while (await stack.http.get(f"{stack.url(name)}/readyz")).status_code != 200:  # noqa: ASYNC110 - polls another process
                await asyncio.sleep(0.5)
