"""Adapters that need no real store: the document mapping, field encryption, revocation."""

from collections.abc import AsyncIterator, Sequence
from typing import Any, ClassVar, get_args

import httpx
import pytest
from pydantic import SecretStr

from integrations.credentials.adapters.documents import (
    SECRET_FIELDS,
    from_document,
    record_id,
    to_document,
)
from integrations.credentials.adapters.secrets import SealedFields
from integrations.credentials.adapters.token_revoker import ProviderTokenRevoker
from integrations.credentials.domain.credentials import Credentials
from integrations.credentials.domain.stored import RefreshState, StoredCredentials
from integrations.crypto import DecryptionFailed
from integrations.oauth_clients import callback_redirect_uri
from integrations.providers import OAuthFlowError, OAuthHandler, OAuthTokens, build_registry
from tests.unit.credentials.kit import ALICE, AT_REST, MARK, every_kind, oauth2

pytestmark = pytest.mark.unit

SEALED = SealedFields(AT_REST, namespace="credentials")


def stored(credentials: Credentials, user_id: str = ALICE) -> StoredCredentials:
    return StoredCredentials(
        user_id=user_id,
        credentials=credentials,
        version=3,
        created_at=1.5,
        updated_at=2.5,
        refresh=RefreshState(failed=True, attempts=2, last_error="timeout", last_attempt_at=2.0),
    )


def test_every_secret_field_of_every_kind_is_declared_secret() -> None:
    """A new `SecretStr` field on a credential kind cannot be stored in clear unnoticed."""
    union = get_args(get_args(Credentials)[0])
    for kind in union:
        kind_name = kind.model_fields["type"].default
        secret_fields = {
            name for name, info in kind.model_fields.items() if "SecretStr" in str(info.annotation)
        }
        assert secret_fields == set(SECRET_FIELDS[kind_name]), kind_name


@pytest.mark.parametrize("credentials", every_kind(), ids=lambda c: c.type)
def test_documents_round_trip_and_hold_no_plaintext_secret(credentials: Credentials) -> None:
    original = stored(credentials)
    doc = to_document(original, SEALED)
    assert MARK not in str(doc)
    assert doc["_id"] == record_id(ALICE, credentials.id)
    assert (doc["user_id"], doc["credentials_id"], doc["version"]) == (ALICE, credentials.id, 3)
    assert from_document(doc, SEALED) == original


def test_oauth2_documents_keep_the_expiry_at_the_top_level() -> None:
    doc = to_document(stored(oauth2()), SEALED)
    assert doc["access_token_expires_at"] == 2_000_000_000
    assert "access_token_expires_at" not in doc["attributes"]


def test_record_ids_never_collide_across_users() -> None:
    assert record_id("a/b", "c") != record_id("a", "b/c")
    assert record_id("a", "b#c") != record_id("a#b", "c")
    assert "#" not in record_id("a#b", "c#d")


@pytest.mark.parametrize(
    "move",
    [
        pytest.param(lambda doc: {**doc, "_id": record_id("mallory", "gh-1")}, id="other user"),
        pytest.param(lambda doc: {**doc, "_id": record_id(ALICE, "gh-2")}, id="other id"),
        pytest.param(
            lambda doc: {
                **doc,
                "secrets": {
                    "access_token": doc["secrets"]["refresh_token"],
                    "refresh_token": doc["secrets"]["access_token"],
                },
            },
            id="swapped fields",
        ),
    ],
)
def test_a_ciphertext_moved_to_another_record_or_field_does_not_open(move: Any) -> None:
    doc = to_document(stored(oauth2()), SEALED)
    with pytest.raises(DecryptionFailed):
        from_document(move(doc), SEALED)


def test_another_collection_cannot_open_the_ciphertexts() -> None:
    doc = to_document(stored(oauth2()), SEALED)
    with pytest.raises(DecryptionFailed):
        SealedFields(AT_REST, namespace="managed_credentials").open(doc)


# Revocation (SPEC RT-6, CM-7)


class FakeGitHubOAuth(OAuthHandler):
    revoked: ClassVar[list[tuple[str, str, str]]] = []
    answer: ClassVar[bool | None] = True
    error: ClassVar[Exception | None] = None

    def authorize_url(
        self, *, scopes: Sequence[str], state: str, code_challenge: str | None
    ) -> str:
        raise NotImplementedError

    async def exchange_code(
        self, *, code: str, scopes: Sequence[str], code_verifier: str | None
    ) -> OAuthTokens:
        raise NotImplementedError

    async def refresh(self, tokens: OAuthTokens) -> OAuthTokens:
        raise NotImplementedError

    async def revoke(self, tokens: OAuthTokens) -> bool | None:
        if self.error is not None:
            raise self.error
        type(self).revoked.append(
            (
                self.client.client_id,
                self.client.redirect_uri,
                tokens.access_token.get_secret_value(),
            )
        )
        return self.answer


OAUTH_ENV = {"GITHUB_CLIENT_ID": "client-id", "GITHUB_CLIENT_SECRET": "client-secret"}


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def revoker(http: httpx.AsyncClient, env: dict[str, str]) -> ProviderTokenRevoker:
    registry = build_registry(oauth_handlers={"github": FakeGitHubOAuth})
    return ProviderTokenRevoker(
        registry, env, http, redirect_uri=callback_redirect_uri(None, "https://platform.example")
    )


async def test_revokes_through_the_registered_handler_with_the_configured_app(
    http: httpx.AsyncClient,
) -> None:
    FakeGitHubOAuth.revoked = []
    assert await revoker(http, OAUTH_ENV).revoke(oauth2()) is True
    assert FakeGitHubOAuth.revoked == [
        (
            "client-id",
            "https://platform.example/auth/integrations/oauth_callback",
            f"access-{MARK}",
        )
    ]


async def test_revocation_is_null_without_a_handler_or_configuration(
    http: httpx.AsyncClient,
) -> None:
    assert await revoker(http, {}).revoke(oauth2()) is None
    assert await revoker(http, OAUTH_ENV).revoke(oauth2(provider="notion")) is None


@pytest.mark.parametrize("error", [OAuthFlowError("refused"), httpx.ConnectError("down")])
async def test_a_failing_provider_means_not_revoked(
    http: httpx.AsyncClient, error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FakeGitHubOAuth, "error", error)
    assert await revoker(http, OAUTH_ENV).revoke(oauth2()) is False


def test_the_redirect_uri_prefers_the_frontend() -> None:
    """SPEC CM-7"""
    assert callback_redirect_uri("https://app.example/", "https://api.example") == (
        "https://app.example/auth/integrations/oauth_callback"
    )


def test_secret_values_never_show_in_reprs() -> None:
    assert MARK not in repr(oauth2())
    assert MARK not in repr(stored(oauth2()))
    assert isinstance(oauth2().access_token, SecretStr)
