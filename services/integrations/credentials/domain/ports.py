"""What the credentials handlers need from storage; adapters implement these over the
document-collection port (MongoDB in production, SQLite embedded)."""

from collections.abc import AsyncIterator
from typing import Protocol

from integrations.credentials.domain.credentials import Credentials
from integrations.credentials.domain.stored import RefreshState, StoredCredentials


class CredentialsAlreadyExist(Exception):
    """SPEC CS-3: the user already has a credential with this id."""


class CredentialsRepository(Protocol):
    """Scoped by user on every call (another user's id looks exactly like a missing one).

    Secret fields are encrypted by the adapter before they reach storage and decrypted on
    the way out; callers only ever see `SecretStr`s.
    """

    async def add(self, user_id: str, credentials: Credentials) -> StoredCredentials:
        """Raise `CredentialsAlreadyExist` if the user has one with the same id."""
        ...

    async def get(self, user_id: str, credentials_id: str) -> StoredCredentials | None: ...

    async def for_user(
        self, user_id: str, *, provider: str | None = None
    ) -> list[StoredCredentials]: ...

    async def replace(
        self,
        current: StoredCredentials,
        credentials: Credentials,
        *,
        refresh: RefreshState | None = None,
    ) -> StoredCredentials | None:
        """Write `credentials` if the stored version is still `current.version`.

        Returns the new stored state, or None when someone else wrote first (re-read and
        decide again). `refresh=None` keeps the current refresh state.
        """
        ...

    async def delete(self, user_id: str, credentials_id: str) -> bool: ...

    async def expiring_before(self, epoch_seconds: float, *, limit: int) -> list[StoredCredentials]:
        """OAuth2 credentials whose access token expires before `epoch_seconds` and that
        have a refresh token, soonest first (for the background refresher)."""
        ...

    def scan(self) -> AsyncIterator[StoredCredentials]:
        """Every stored credential, for key rotation."""
        ...


class ManagedCredentialsRepository(Protocol):
    """SPEC CS-7: secrets the platform manages per user (e.g. the Ayrshare profile key)."""

    async def get(self, user_id: str, name: str) -> str | None: ...

    async def put(self, user_id: str, name: str, secret: str) -> None: ...

    async def delete(self, user_id: str, name: str) -> bool: ...
