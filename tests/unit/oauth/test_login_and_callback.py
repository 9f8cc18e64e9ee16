"""Login and callback over HTTP, against a real authorization server (SPEC RT-1, RT-2)."""

import logging
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.bus import Record
from integrations.contracts import topics
from integrations.oauth.adapters.state_repository import COLLECTION
from integrations.oauth.domain.states import hash_token, s256_challenge
from tests.harness.oauth_server import RegisteredClient

from .kit import (
    CREDENTIALS_CIPHER,
    PROVIDER_BASE,
    REDIRECT_URI,
    bearer,
    running_service,
)

pytestmark = pytest.mark.unit


async def test_login_returns_the_providers_authorize_url_and_a_state() -> None:
    """SPEC RT-1, CS-8: a 32-byte url-safe state and an S256 challenge in the URL."""
    async with running_service() as service:
        response = await service.login("user-1", scopes="read,write")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"login_url", "state_token"}
    assert len(body["state_token"]) == 43  # 32 bytes, base64url without padding
    url = urlsplit(body["login_url"])
    query = parse_qs(url.query)
    assert f"{url.scheme}://{url.netloc}" == PROVIDER_BASE
    assert query["state"] == [body["state_token"]]
    assert query["redirect_uri"] == [REDIRECT_URI]
    assert query["client_id"] == ["local-client"]
    assert query["scope"] == ["read write"]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["code_challenge"][0]) == 43


async def test_login_without_scopes_asks_for_the_default_ones() -> None:
    """SPEC RT-2: default scopes applied when none requested."""
    async with running_service() as service:
        response = await service.login("user-1")

    assert parse_qs(urlsplit(response.json()["login_url"]).query)["scope"] == ["profile"]


@pytest.mark.parametrize("provider", ["no-such-provider", "openai", "ollama"])
async def test_unknown_and_non_oauth_providers_are_not_found(provider: str) -> None:
    """SPEC RT-1: unknown or non-OAuth provider → 404, on login and on callback."""
    async with running_service() as service:
        login = await service.login("user-1", provider=provider)
        callback = await service.callback("user-1", "c", "s", provider=provider)

    for response in (login, callback):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "oauth_not_supported"


async def test_a_provider_without_client_credentials_is_not_configured() -> None:
    """SPEC RT-1, CM-7: 501, naming what to set and nothing secret."""
    async with running_service() as service:
        response = await service.login("user-1", provider="github")

    assert response.status_code == 501
    assert "GITHUB_CLIENT_ID" in response.json()["error"]["message"]


async def test_the_routes_need_a_user() -> None:
    async with running_service() as service:
        response = await service.client.get("/api/integrations/localauth/login")

    assert response.status_code == 401


async def test_the_callback_stores_the_credentials_and_answers_their_metadata() -> None:
    """SPEC RT-2, DESIGN §4: exchange with the verifier, send StoreOAuthCredentials with
    transport-encrypted tokens, wait for CredentialsCreated, answer the metadata."""
    async with running_service() as service:
        login = (await service.login("user-1", scopes="read")).json()
        code, state = await service.authorize(login["login_url"])
        response = await service.callback("user-1", code, state)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "id": body["id"],
        "provider": "localauth",
        "type": "oauth2",
        "title": None,
        "scopes": ["read"],
        "username": "ada",
        "host": None,
    }
    stored = service.credentials.stored[body["id"]]
    issued = service.provider.tokens[0]
    assert stored.access_token == issued.access_token
    assert stored.refresh_token == issued.refresh_token
    assert stored.command.user_id == "user-1"
    assert stored.command.access_token_expires_at is not None
    # PKCE: the token request carried the verifier of the challenge in the login URL.
    _, form, _ = service.provider.token_requests[0]
    challenge = parse_qs(urlsplit(login["login_url"]).query)["code_challenge"][0]
    assert s256_challenge(form["code_verifier"]) == challenge


async def test_the_command_carries_only_ciphertext_bound_to_its_credential() -> None:
    """DESIGN §6: the only secret-bearing message carries ciphertext; moved, it fails."""
    async with running_service() as service:
        response = await service.connect("user-1")
        records: list[Record] = [
            r for p in service.bus.log_of(topics.CREDENTIALS_COMMANDS) for r in p
        ]

    assert len(records) == 1
    raw = records[0].value or b""
    access_token = service.provider.tokens[0].access_token
    assert access_token.encode() not in raw
    command = service.credentials.stored[response.json()["id"]].command
    with pytest.raises(Exception, match="authenticated"):
        CREDENTIALS_CIPHER.decrypt_text(
            command.access_token_ciphertext, associated_data=b"another credential"
        )


async def test_a_single_space_separated_granted_scope_is_split_and_missing_ones_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """SPEC RT-2: granted ⊉ requested → a warning only."""
    partial = RegisteredClient(
        "local-client", "local-secret", (REDIRECT_URI,), grantable_scopes=("read",)
    )
    async with running_service(clients=[partial]) as service:
        with caplog.at_level(logging.WARNING, logger="integrations.oauth.handlers"):
            response = await service.connect("user-1", scopes="read,write")

    assert response.status_code == 200
    assert response.json()["scopes"] == ["read"]
    warnings = [r for r in caplog.records if "requested scopes" in r.getMessage()]
    assert [w.missing_scopes for w in warnings] == [["write"]]  # type: ignore[attr-defined]


async def test_a_failed_exchange_is_a_400_that_says_why() -> None:
    """SPEC RT-2: exchange failure → 400 with the reason."""
    async with running_service() as service:
        login = await service.login("user-1")
        _, state = await service.authorize(login.json()["login_url"])
        response = await service.callback("user-1", "not-the-code", state)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "exchange_failed"
    assert "invalid_grant" in error["message"]
    assert service.credentials.stored == {}


async def test_the_initiating_api_key_is_remembered_with_the_state() -> None:
    """SPEC CS-8: the state stores the initiating API key id; never the token itself."""
    async with running_service() as service:
        response = await service.client.get(
            "/api/integrations/localauth/login", headers=bearer("user-1", api_key_id="key-7")
        )
        token = response.json()["state_token"]
        doc = await service.database.collection(COLLECTION).get(hash_token(token))

    assert doc is not None
    assert doc["initiated_by_api_key_id"] == "key-7"
    assert doc["user_id"] == "user-1"
    assert doc["provider"] == "localauth"
    assert token not in str(doc)


async def test_no_confirmation_within_the_timeout_is_a_504_and_the_command_still_lands() -> None:
    """DESIGN §4: timeout → 504 with a clear message; the command is on its topic."""
    async with running_service(confirmation_timeout_s=0.2) as service:
        service.credentials.answering = False
        response = await service.connect("user-1")
        await service.bus.drain()

    assert response.status_code == 504
    error = response.json()["error"]
    assert error["code"] == "confirmation_timeout"
    assert "did not confirm" in error["message"]
    assert len(service.credentials.stored) == 1
