"""What the handlers need from the outside; adapters implement these, tests fake them."""

from collections.abc import Sequence
from typing import Protocol

from integrations.contracts import CredentialsCreated, StoreOAuthCredentials
from integrations.oauth.domain.states import OAuthState
from integrations.providers import OAuthHandler


class OAuthHandlers(Protocol):
    def handler(self, provider: str) -> OAuthHandler:
        """Raises `OAuthNotAvailable` or `OAuthNotConfigured`."""
        ...


class StateRepository(Protocol):
    async def add(self, state: OAuthState) -> None: ...

    async def take(self, token: str, *, user_id: str, provider: str) -> OAuthState | None:
        """Remove and return the state if it `accepts` the token, user and provider.

        Of concurrent takes of one state, exactly one gets it. A state of another user or
        provider is left untouched. Expiry is the caller's to check.
        """
        ...

    async def purge_expired(self, now: float) -> int: ...


class CredentialsWriter(Protocol):
    async def store(self, command: StoreOAuthCredentials) -> CredentialsCreated:
        """Send the command, then wait for its confirmation; `ConfirmationTimeout` if none."""
        ...


class ManagedSecrets(Protocol):
    """SPEC CS-7, kept by the credentials service. Raise `ManagedCredentialsUnavailable`."""

    async def get(self, user_id: str, name: str) -> str | None: ...

    async def put(self, user_id: str, name: str, secret: str) -> None: ...


class AyrshareApi(Protocol):
    """Raise `AyrshareFailed`."""

    async def create_profile(self, *, title: str) -> str:
        """The new profile's key."""
        ...

    async def sso_url(
        self, *, profile_key: str, allowed_social: Sequence[str], expires_in_minutes: int
    ) -> str: ...
