"""The credentials service is down when a user comes back from the provider (DESIGN §4 OAuth
connect: the callback waits for `CredentialsCreated`; on timeout 504, and the command still
lands, idempotent by credential id).

The provider is a real authorization server on loopback (tests/harness/oauth_server.py); oauth
and credentials know it through tests/e2e/serve_with_localauth.py."""

import asyncio
import secrets
import sys
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from integrations.oauth_clients import callback_redirect_uri
from tests.e2e.kit import revealed
from tests.e2e.leaks import LeakScan
from tests.e2e.stack import Stack, StackFactory
from tests.harness.oauth_server import (
    LocalAuthorizationServer,
    RegisteredClient,
    serve_on_loopback,
)

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

LAUNCHER = (sys.executable, str(Path(__file__).with_name("serve_with_localauth.py")))
FRONTEND = "http://frontend.test"  # where the provider sends the browser back; never fetched
CONFIRMATION_TIMEOUT_S = 3.0
APPEAR_WITHIN_S = 60.0


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


async def test_a_callback_while_credentials_is_down_answers_504_and_its_credentials_appear_later(
    stacks: StackFactory, leak_scan: LeakScan
) -> None:
    client_secret = secrets.token_urlsafe(24)
    leak_scan.add_secrets(client_secret)
    provider = LocalAuthorizationServer(
        clients=[
            RegisteredClient(
                "platform-app", client_secret, (callback_redirect_uri(FRONTEND, FRONTEND),)
            )
        ],
        username="ada",
    )
    async with serve_on_loopback(provider.app) as provider_url:
        app = {
            "LOCALAUTH_BASE_URL": provider_url,
            "LOCALAUTH_CLIENT_ID": "platform-app",
            "LOCALAUTH_CLIENT_SECRET": client_secret,
        }
        stack = await stacks.start(
            overrides={
                "oauth": {
                    **app,
                    "FRONTEND_BASE_URL": FRONTEND,
                    "CONFIRMATION_TIMEOUT_S": str(CONFIRMATION_TIMEOUT_S),
                },
                "credentials": app,
                "ingress": app,
                "dispatcher": app,
            },
            launcher=LAUNCHER,
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


def issued_tokens(provider: LocalAuthorizationServer) -> list[str]:
    return [
        value
        for token in provider.tokens
        for value in (token.access_token, token.refresh_token)
        if value is not None
    ]


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
