"""Credential kinds (SPEC CS-1). Secret fields are `SecretStr`: never printed, never dumped
unless a caller reveals them on purpose."""

import time
import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

CredentialsType = Literal["oauth2", "api_key", "user_password", "host_scoped"]

# Bounds match the contracts' (`integrations.contracts.types`), so whatever is stored can
# also be announced in a credentials event without failing validation there.
CredentialsId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^\S+$")]
Scope = Annotated[str, StringConstraints(min_length=1, max_length=512)]


def new_credentials_id() -> str:
    return str(uuid.uuid4())


def _type_is_required(schema: dict[str, Any]) -> None:
    # A request body is read by its `type` (the discriminator), so clients must send it; the
    # default only serves code that builds one kind directly.
    required = schema.setdefault("required", [])
    assert isinstance(required, list)
    if "type" not in required:
        required.append("type")


class _BaseCredentials(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_type_is_required)

    id: CredentialsId = Field(
        default_factory=new_credentials_id, description="Credential id (uuid by default)."
    )
    provider: str = Field(min_length=1, max_length=64, description="Provider name.")
    title: str | None = Field(default=None, max_length=256, description="User-facing label.")


class OAuth2Credentials(_BaseCredentials):
    type: Literal["oauth2"] = "oauth2"
    username: str | None = Field(
        default=None, max_length=256, description="Account name at the provider."
    )
    access_token: SecretStr
    access_token_expires_at: int | None = Field(
        default=None, description="Epoch seconds; None means the token does not expire."
    )
    refresh_token: SecretStr | None = None
    refresh_token_expires_at: int | None = Field(default=None, description="Epoch seconds.")
    scopes: list[Scope] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)

    def expires_within(self, seconds: int, *, now: float | None = None) -> bool:
        if self.access_token_expires_at is None:
            return False
        current = time.time() if now is None else now
        return self.access_token_expires_at < current + seconds


class APIKeyCredentials(_BaseCredentials):
    type: Literal["api_key"] = "api_key"
    api_key: SecretStr
    expires_at: int | None = Field(default=None, description="Epoch seconds, if the key expires.")


class UserPasswordCredentials(_BaseCredentials):
    type: Literal["user_password"] = "user_password"
    username: SecretStr
    password: SecretStr


class HostScopedCredentials(_BaseCredentials):
    type: Literal["host_scoped"] = "host_scoped"
    host: str = Field(
        min_length=1, max_length=1024, description="Host pattern the headers are sent to."
    )
    headers: dict[str, SecretStr] = Field(default_factory=dict)


Credentials = Annotated[
    OAuth2Credentials | APIKeyCredentials | UserPasswordCredentials | HostScopedCredentials,
    Field(discriminator="type"),
]
