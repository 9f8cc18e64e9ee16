"""SPEC CS-2: the platform's own credentials, one per provider whose key is configured.

They are listed with every user's credentials, never stored per user, and users can neither
create, update nor delete them (the credentials service enforces that with the predicates
below). Which providers have one, and where each secret comes from, is catalogue data.
"""

from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, SecretStr

from integrations.providers.provider import DefaultCredential
from integrations.providers.registry import ProviderRegistry, registry_or_default

PLACEHOLDER_API_KEY = "not-required"
"""The key of a credential offered without configuration (Ollama needs none)."""


class _SystemCredential(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    provider: str
    title: str


class SystemAPIKeyCredential(_SystemCredential):
    type: Literal["api_key"] = "api_key"
    api_key: SecretStr
    expires_at: int | None = None


class SystemUserPasswordCredential(_SystemCredential):
    type: Literal["user_password"] = "user_password"
    username: SecretStr
    password: SecretStr


SystemCredential = SystemAPIKeyCredential | SystemUserPasswordCredential


def _materialise(spec: DefaultCredential, env: Mapping[str, str]) -> SystemCredential | None:
    values = [env.get(name, "") for name in spec.env_vars]
    if spec.kind == "user_password":
        username, password = values
        if not (username and password):
            return None
        return SystemUserPasswordCredential(
            id=spec.id,
            provider=spec.provider,
            title=spec.title,
            username=SecretStr(username),
            password=SecretStr(password),
        )
    api_key = next((value for value in values if value), None)
    if api_key is None and spec.always:
        api_key = PLACEHOLDER_API_KEY
    if api_key is None:
        return None
    return SystemAPIKeyCredential(
        id=spec.id, provider=spec.provider, title=spec.title, api_key=SecretStr(api_key)
    )


def system_credentials(
    env: Mapping[str, str], registry: ProviderRegistry | None = None
) -> list[SystemCredential]:
    """In catalogue order; an empty variable counts as unset. Pass `os.environ` or settings."""
    specs = registry_or_default(registry).default_credentials()
    return [c for spec in specs if (c := _materialise(spec, env)) is not None]


def system_credential_ids(registry: ProviderRegistry | None = None) -> frozenset[str]:
    specs = registry_or_default(registry).default_credentials()
    return frozenset(spec.id for spec in specs)


def is_system_credential(credential_id: str, registry: ProviderRegistry | None = None) -> bool:
    """Whether the id is a system credential's, configured in this deployment or not: such an
    id is never a user's to create or delete."""
    return credential_id in system_credential_ids(registry)


def is_system_provider(provider: str, registry: ProviderRegistry | None = None) -> bool:
    """Whether the platform declares its own credential for the provider (the original's
    `SYSTEM_PROVIDERS`, independent of this deployment's environment)."""
    specs = registry_or_default(registry).default_credentials()
    return any(spec.provider == provider for spec in specs)
