"""The credentials a successful callback yields (SPEC CS-1), and how they travel to the
credentials service: `StoreOAuthCredentials` with every token sealed under the `transport`
key, bound to its user, credential and field (`transport_associated_data`)."""

import uuid
from datetime import UTC, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from integrations.contracts import (
    CredentialsCreated,
    StoreOAuthCredentials,
    transport_associated_data,
)
from integrations.contracts.messages.credentials import TokenField
from integrations.crypto import Cipher
from integrations.providers import OAuthTokens

# The contracts' bounds (`StoreOAuthCredentials.username`, the credentials' title): a
# provider's longer value is cut rather than failing a connection the user already granted.
MAX_USERNAME = 256
MAX_TITLE = 256


class OAuth2Credentials(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: str(uuid.uuid4()))
    type: Literal["oauth2"] = "oauth2"
    provider: str
    title: str | None = None
    username: str | None = None
    access_token: SecretStr
    access_token_expires_at: int | None = None
    refresh_token: SecretStr | None = None
    refresh_token_expires_at: int | None = None
    scopes: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def from_tokens(cls, provider: str, tokens: OAuthTokens) -> Self:
        """Fresh id: a callback never overwrites existing credentials."""
        return cls(
            provider=provider,
            title=tokens.title[:MAX_TITLE] if tokens.title else None,
            username=tokens.username[:MAX_USERNAME] if tokens.username else None,
            access_token=tokens.access_token,
            access_token_expires_at=tokens.access_token_expires_at,
            refresh_token=tokens.refresh_token,
            refresh_token_expires_at=tokens.refresh_token_expires_at,
            scopes=list(tokens.scopes),
            metadata=dict(tokens.metadata),
        )


def store_command(
    user_id: str, credentials: OAuth2Credentials, cipher: Cipher
) -> StoreOAuthCredentials:
    def seal(token: SecretStr, field: TokenField) -> str:
        associated = transport_associated_data(user_id, credentials.id, field)
        return cipher.encrypt_text(token.get_secret_value(), associated_data=associated)

    refresh = credentials.refresh_token
    return StoreOAuthCredentials(
        user_id=user_id,
        credentials_id=credentials.id,
        provider=credentials.provider,
        title=credentials.title,
        scopes=credentials.scopes,
        username=credentials.username,
        access_token_ciphertext=seal(credentials.access_token, "access_token_ciphertext"),
        access_token_expires_at=_utc(credentials.access_token_expires_at),
        refresh_token_ciphertext=seal(refresh, "refresh_token_ciphertext") if refresh else None,
        refresh_token_expires_at=_utc(credentials.refresh_token_expires_at),
        metadata=credentials.metadata,
    )


class CredentialsMeta(BaseModel):
    """SPEC RT-2's answer: what was stored, never a secret."""

    id: str
    provider: str
    type: str
    title: str | None
    scopes: list[str] | None
    username: str | None
    host: str | None

    @classmethod
    def of(cls, created: CredentialsCreated) -> Self:
        return cls(
            id=created.credentials_id,
            provider=created.provider,
            type=created.credentials_type,
            title=created.title,
            scopes=list(created.scopes),
            username=created.username,
            host=created.host,
        )


def _utc(epoch_seconds: int | None) -> datetime | None:
    return None if epoch_seconds is None else datetime.fromtimestamp(epoch_seconds, UTC)
