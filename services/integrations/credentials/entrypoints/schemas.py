"""Response bodies of the credentials routes that are not domain models."""

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from integrations.credentials.domain.credentials import Credentials


class CredentialsDeletionResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    deleted: Literal[True] = True
    revoked: bool | None = Field(
        description="Whether the provider revoked the tokens; null when it cannot."
    )


class CredentialsDeletionNeedsConfirmationResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    deleted: Literal[False] = False
    need_confirmation: Literal[True] = True
    message: str


class RevealedCredentialsBatch(BaseModel):
    """Internal: several credentials at once, secrets in clear."""

    credentials: list[dict[str, Any]]
    missing: list[str] = Field(description="Requested ids that matched nothing.")


def revealed(credentials: Credentials) -> dict[str, Any]:
    """The credential as JSON with its secrets in clear: for the internal API only."""
    return {key: _revealed(value) for key, value in credentials.model_dump().items()}


def _revealed(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {key: _revealed(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_revealed(item) for item in value]
    return value
