"""What the credentials handlers need from storage; adapters implement these over the
document-collection port (MongoDB in production, SQLite embedded)."""

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from integrations.credentials.domain.credentials import Credentials, OAuth2Credentials
from integrations.credentials.domain.stored import RefreshState, StoredCredentials


class CredentialsAlreadyExist(Exception):
    """SPEC CS-3: the user already has a credential with this id."""


class CredentialsRepository(Protocol):
    """Scoped by user on every call (another user's id looks exactly like a missing one).

    Secret fields are encrypted by the adapter before they reach storage and decrypted on
    the way out; callers only ever see `SecretStr`s.
    """

    async def add(
        self, user_id: str, credentials: Credentials, *, managed: bool = False
    ) -> StoredCredentials:
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


# Seams that later features fill in. Each has a simple implementation in `adapters/` that
# bootstrap uses today; the handlers only ever see these Protocols.


class CredentialLocks(Protocol):
    """SPEC CM-4: updates and deletes hold the credential's lock.

    Today an in-process lock per credential (`adapters/local_locks.py`); the lease engineer
    replaces it with the distributed lease (CM-2, CM-3, CM-6) without touching handlers.
    """

    def exclusive(self, user_id: str, credentials_id: str) -> AbstractAsyncContextManager[None]:
        """Held for the whole read-check-write of one change."""
        ...


class CredentialsRefresher(Protocol):
    """SPEC CM-1: what a read for use (the internal API) does before returning credentials.

    Today nothing (`adapters/no_refresh.py`); the lease engineer's implementation refreshes
    OAuth2 tokens that expire within 5 minutes, single-flight across replicas.
    """

    async def ensure_fresh(self, stored: StoredCredentials) -> StoredCredentials: ...


class WebhookUsage(Protocol):
    """SPEC RT-6: what deleting credentials must know about webhooks made with them.

    Today no webhooks exist (`adapters/no_webhooks.py`); the webhooks engineer's
    implementation answers from the webhooks collection and unlinks/prunes on release.
    """

    async def in_use(self, user_id: str, credentials_id: str) -> bool:
        """Whether any webhook made with these credentials still has triggers."""
        ...

    async def release(self, user_id: str, credentials_id: str) -> None:
        """Unlink the triggers of those webhooks, deregister and prune them (before delete)."""
        ...


class TokenRevoker(Protocol):
    async def revoke(self, credentials: OAuth2Credentials) -> bool | None:
        """True: revoked; False: the provider refused or failed; None: cannot revoke here
        (no handler, not configured, or the provider offers no revocation)."""
        ...
