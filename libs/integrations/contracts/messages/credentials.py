"""Credentials commands (`credentials-commands`) and events (`credentials-events`).

Events carry metadata only: anything that could hold a token, key or password stays out,
so the topic can be read by any platform service.
"""

import json
from typing import ClassVar, Literal

from pydantic import Field

from integrations.contracts import topics
from integrations.contracts.messages.base import Command, Event
from integrations.contracts.types import (
    Ciphertext,
    CommandId,
    CredentialsId,
    CredentialsType,
    JsonObject,
    ProviderName,
    Reason,
    Scope,
    Title,
    UserId,
    UtcDateTime,
)


class StoreOAuthCredentials(Command):
    """Store (or overwrite with the same id) OAuth2 credentials obtained by the oauth service.

    Idempotent by `credentials_id`; answered by `CredentialsCreated` with that id.
    """

    ce_type: ClassVar[str] = "integrations.oauth-credentials.store.v1"
    topic: ClassVar[str] = topics.CREDENTIALS_COMMANDS

    user_id: UserId = Field(description="Owner of the credentials.")
    credentials_id: CredentialsId = Field(description="Id chosen by the oauth service.")
    provider: ProviderName = Field(description="Provider that issued the tokens.")
    title: Title | None = Field(default=None, description="Title shown to the user.")
    scopes: list[Scope] = Field(description="Granted scopes, normalised.")
    username: str | None = Field(
        default=None, max_length=256, description="Account name at the provider, if known."
    )
    access_token_ciphertext: Ciphertext = Field(
        repr=False, description="The access token, transport-encrypted. Never plaintext."
    )
    access_token_expires_at: UtcDateTime | None = Field(
        default=None, description="When the access token expires; null if it does not."
    )
    refresh_token_ciphertext: Ciphertext | None = Field(
        default=None,
        repr=False,
        description="The refresh token, transport-encrypted; null when none was issued.",
    )
    refresh_token_expires_at: UtcDateTime | None = Field(
        default=None, description="When the refresh token expires; null if unknown or never."
    )
    metadata: JsonObject = Field(
        default_factory=dict,
        description="Provider-specific, non-secret details returned with the tokens.",
    )


TokenField = Literal["access_token_ciphertext", "refresh_token_ciphertext"]


def transport_associated_data(user_id: str, credentials_id: str, field: str) -> bytes:
    """The associated data each token ciphertext of `StoreOAuthCredentials` is sealed with
    (`Cipher(Purpose.TRANSPORT).encrypt_text(token, associated_data=...)`); `field` is the
    message field that carries it, one of `TokenField`.

    It binds the ciphertext to its owner, credential and field, so a token copied into
    another user's command, another credential or the other field fails to decrypt.
    JSON keeps the parts apart whatever characters the ids hold.
    """
    parts = [StoreOAuthCredentials.ce_type, user_id, credentials_id, field]
    return json.dumps(parts, separators=(",", ":")).encode()


class _CredentialsEvent(Event):
    user_id: UserId = Field(description="Owner of the credentials.")
    credentials_id: CredentialsId = Field(description="The credentials concerned.")
    provider: ProviderName = Field(description="Provider of the credentials.")
    credentials_type: CredentialsType = Field(description="Kind of credentials.")
    title: Title | None = Field(default=None, description="Title shown to the user.")
    command_id: CommandId | None = Field(
        default=None, description="The command that caused this event, if any."
    )


class _CredentialsMetadataEvent(_CredentialsEvent):
    scopes: list[Scope] = Field(
        default_factory=list, description="Granted scopes (oauth2 only; else empty)."
    )
    username: str | None = Field(
        default=None, max_length=256, description="Account name at the provider (oauth2 only)."
    )
    host: str | None = Field(
        default=None, max_length=1024, description="Host pattern (host_scoped only)."
    )
    expires_at: UtcDateTime | None = Field(
        default=None,
        description="When the current access (or API key) expires; null if it does not.",
    )


class CredentialsCreated(_CredentialsMetadataEvent):
    """New credentials were stored (the oauth service waits for this one)."""

    ce_type: ClassVar[str] = "integrations.credentials.created.v1"
    topic: ClassVar[str] = topics.CREDENTIALS_EVENTS


class CredentialsUpdated(_CredentialsMetadataEvent):
    """Stored credentials were changed by their owner."""

    ce_type: ClassVar[str] = "integrations.credentials.updated.v1"
    topic: ClassVar[str] = topics.CREDENTIALS_EVENTS


class CredentialsRefreshed(_CredentialsMetadataEvent):
    """An OAuth access token was refreshed."""

    ce_type: ClassVar[str] = "integrations.credentials.refreshed.v1"
    topic: ClassVar[str] = topics.CREDENTIALS_EVENTS


class CredentialsRefreshFailed(_CredentialsEvent):
    """Refreshing an OAuth access token failed; the credentials are marked."""

    ce_type: ClassVar[str] = "integrations.credentials.refresh-failed.v1"
    topic: ClassVar[str] = topics.CREDENTIALS_EVENTS

    reason: Reason = Field(
        description="Why the refresh failed, safe to show (no provider response bodies)."
    )
    reauthorization_required: bool = Field(
        default=False,
        description="True when retrying cannot help (e.g. `invalid_grant`): the user must "
        "connect the account again.",
    )


class CredentialsDeleted(_CredentialsEvent):
    """Credentials were deleted (their webhooks unlinked and pruned first)."""

    ce_type: ClassVar[str] = "integrations.credentials.deleted.v1"
    topic: ClassVar[str] = topics.CREDENTIALS_EVENTS

    revoked: bool | None = Field(
        default=None,
        description="Whether the provider revoked the tokens: true, false, or null when the "
        "provider offers no revocation.",
    )
