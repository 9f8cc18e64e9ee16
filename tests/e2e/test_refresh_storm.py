"""Two credentials processes under a refresh storm (SPEC CM-1, CM-3; DESIGN §4 Credentials in
use: single-flight across replicas, a rotated refresh token never lost).

Several OAuth credentials, connected through the oauth service against the real
authorization server, all expire within the refresh margin; hundreds of concurrent reads
through both replicas must make exactly one token-endpoint call per credential, and every read
after it serves the same rotated token. tests/integration/test_credentials_refresh_on_kafka.py
does this for one credential with two compositions in one process; here the replicas are
processes of their own, as deployed."""

import asyncio
import uuid
from collections import Counter

import httpx
import pytest
from authlib.oauth2.rfc6750 import BearerTokenGenerator

from tests.e2e.kit import (
    Connect,
    issued_tokens,
    local_authorization_server,
    start_with_localauth,
)
from tests.e2e.leaks import LeakScan
from tests.e2e.stack import StackFactory
from tests.harness.oauth_server import serve_on_loopback

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(300)]

CREDENTIALS = 4
READS = 200
SHORT_LIVED_S = 120  # inside the 5-minute refresh margin: the first read must refresh
LONG_LIVED_S = 3600  # what the refreshed tokens get: no second refresh


async def test_two_credentials_replicas_refresh_each_expiring_credential_exactly_once(
    stacks: StackFactory, leak_scan: LeakScan
) -> None:
    provider, client_secret = local_authorization_server(leak_scan, expires_in=SHORT_LIVED_S)
    async with serve_on_loopback(provider.app) as provider_url:
        # Background refresh off: the storm of reads is what must trigger the refreshes.
        stack = await start_with_localauth(
            stacks, provider_url, client_secret, credentials={"BACKGROUND_REFRESH_INTERVAL_S": "0"}
        )
        second = await stacks.replica(stack, "credentials")
        connect = Connect(stack, f"user-{uuid.uuid4().hex[:8]}")
        ids = []
        for _ in range(CREDENTIALS):
            connected = await connect.callback(*await connect.authorize())
            assert connected.status_code == 200, connected.text
            ids.append(connected.json()["id"])
        first_refresh_tokens = {token.refresh_token for token in provider.tokens}
        provider.register_token_generator(
            "default",
            BearerTokenGenerator(
                lambda **_: f"access-{uuid.uuid4().hex}",
                lambda **_: f"refresh-{uuid.uuid4().hex}",
                lambda client, grant: LONG_LIVED_S,
            ),
        )

        replicas = [stack.url("credentials"), second.url]
        # The internal route answers secrets by design: this client is not the scanned one.
        async with httpx.AsyncClient(timeout=60) as executor:

            async def read(n: int) -> tuple[str, str]:
                credentials_id = ids[n % CREDENTIALS]
                response = await executor.get(
                    f"{replicas[n % 2]}/internal/users/{connect.user_id}/credentials/"
                    f"{credentials_id}",
                    headers=stack.internal,
                )
                assert response.status_code == 200, response.text
                token: str = response.json()["access_token"]
                return credentials_id, token

            reads = await asyncio.gather(*(read(n) for n in range(READS)))
            afterwards = await asyncio.gather(*(read(n) for n in range(2 * CREDENTIALS)))
        leak_scan.add_secrets(*issued_tokens(provider))

    refreshes = [
        form["refresh_token"]
        for grant, form, _ in provider.token_requests
        if grant == "refresh_token"
    ]
    assert Counter(refreshes) == dict.fromkeys(first_refresh_tokens, 1)
    refreshed = {token.access_token for token in provider.tokens[CREDENTIALS:]}
    served: dict[str, set[str]] = {credentials_id: set() for credentials_id in ids}
    for credentials_id, token in [*reads, *afterwards]:
        served[credentials_id].add(token)
    # No read served an old token after another had the new one, on either replica: each
    # credential's reads saw exactly its one refreshed token.
    assert all(len(tokens) == 1 for tokens in served.values()), served
    assert set().union(*served.values()) == refreshed
