"""The credentials service is down when a user comes back from the provider (DESIGN §4 OAuth
connect: the callback waits for `CredentialsCreated`; on timeout 504, and the command still
lands, idempotent by credential id).

The provider is a real authorization server on loopback (tests/harness/oauth_server.py); oauth
and credentials know it through tests/e2e/serve_with_localauth.py."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.kit import (
    Connect,
    issued_tokens,
    local_authorization_server,
    revealed,
    start_with_localauth,
)
from tests.e2e.leaks import LeakScan
from tests.e2e.stack import StackFactory
from tests.harness.oauth_server import (
    serve_on_loopback,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CONFIRMATION_TIMEOUT_S = 3.0
APPEAR_WITHIN_S = 60.0


async def test_a_callback_while_credentials_is_down_answers_504_and_its_credentials_appear_later(
    stacks: StackFactory, leak_scan: LeakScan
) -> None:
    provider, client_secret = local_authorization_server(leak_scan)
    async with serve_on_loopback(provider.app) as provider_url:
        stack = await start_with_localauth(
            stacks,
            provider_url,
            client_secret,
            oauth={"CONFIRMATION_TIMEOUT_S": str(CONFIRMATION_TIMEOUT_S)},
        )
        connect = Connect(stack, f"user-{uuid.uuid4().hex[:8]}")
        code, state = await connect.authorize()

        await stack.stop("credentials")
        timed_out = await connect.callback(code, state)
        leak_scan.add_secrets(*issued_tokens(provider))

        assert timed_out.status_code == 504, timed_out.text
        assert timed_out.json()["error"]["code"] == "confirmation_timeout"
        assert await listed_while_down(connect) is None

        await stack.start("credentials")
        stored = await until_listed(connect)
        assert stored["username"] == "ada"
        assert sorted(stored["scopes"]) == ["read", "write"]
        secrets_now = await revealed(stack, connect.user_id, stored["id"])
        issued = provider.tokens[-1]
        assert secrets_now["access_token"] == issued.access_token
        assert secrets_now["refresh_token"] == issued.refresh_token

        # With credentials back, the next connection is confirmed within the callback.
        again = await connect.callback(*await connect.authorize())
        leak_scan.add_secrets(*issued_tokens(provider))
        assert again.status_code == 200, again.text
        assert again.json()["id"] != stored["id"]
        assert {c["id"] for c in await connect.listed()} == {stored["id"], again.json()["id"]}


async def listed_while_down(connect: Connect) -> object:
    """The credentials service does not answer at all while it is stopped."""
    try:
        await connect.listed()
    except httpx.ConnectError:
        return None
    return "answered"


async def until_listed(connect: Connect) -> dict[str, Any]:
    async with asyncio.timeout(APPEAR_WITHIN_S):
        while not (found := await connect.listed()):  # noqa: ASYNC110 - polls another process
            await asyncio.sleep(0.5)
    assert len(found) == 1, found
    return found[0]
