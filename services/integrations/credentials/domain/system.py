"""SPEC CS-2: the platform's own credentials, as this service lists and guards them.

They come from the environment (through `integrations.providers.system_credentials`), are
listed with every user's credentials and are never stored per user.
"""

from collections.abc import Mapping

from integrations.credentials.domain.credentials import (
    APIKeyCredentials,
    Credentials,
    UserPasswordCredentials,
)
from integrations.providers import (
    ProviderRegistry,
    SystemAPIKeyCredential,
    SystemCredential,
    is_system_credential,
    system_credentials,
)


def as_credentials(system: SystemCredential) -> Credentials:
    if isinstance(system, SystemAPIKeyCredential):
        return APIKeyCredentials(
            id=system.id,
            provider=system.provider,
            title=system.title,
            api_key=system.api_key,
            expires_at=system.expires_at,
        )
    return UserPasswordCredentials(
        id=system.id,
        provider=system.provider,
        title=system.title,
        username=system.username,
        password=system.password,
    )


class SystemCredentials:
    """Read from `env` on every call, so the answer follows the process environment."""

    def __init__(self, env: Mapping[str, str], registry: ProviderRegistry) -> None:
        self._env = env
        self._registry = registry

    def all(self, *, provider: str | None = None) -> list[Credentials]:
        return [
            as_credentials(system)
            for system in system_credentials(self._env, self._registry)
            if provider is None or system.provider == provider
        ]

    def get(self, credentials_id: str) -> Credentials | None:
        return next((c for c in self.all() if c.id == credentials_id), None)

    def is_system(self, credentials_id: str) -> bool:
        """Configured here or not: such an id is never a user's to create or delete."""
        return is_system_credential(credentials_id, self._registry)
