"""SPEC RT-3: what a listing shows of a credential: who and what, never a secret."""

from pydantic import BaseModel, ConfigDict, Field

from integrations.credentials.domain.credentials import (
    Credentials,
    CredentialsType,
    HostScopedCredentials,
    OAuth2Credentials,
)


class CredentialsMeta(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    provider: str
    type: CredentialsType
    title: str | None
    scopes: list[str] | None = Field(default=None, description="oauth2 only.")
    username: str | None = Field(default=None, description="oauth2 only.")
    host: str | None = Field(default=None, description="host_scoped only.")


def meta_of(credentials: Credentials) -> CredentialsMeta:
    oauth2 = credentials if isinstance(credentials, OAuth2Credentials) else None
    host_scoped = credentials if isinstance(credentials, HostScopedCredentials) else None
    return CredentialsMeta(
        id=credentials.id,
        provider=credentials.provider,
        type=credentials.type,
        title=credentials.title,
        scopes=list(oauth2.scopes) if oauth2 else None,
        username=oauth2.username if oauth2 else None,
        host=host_scoped.host if host_scoped else None,
    )
