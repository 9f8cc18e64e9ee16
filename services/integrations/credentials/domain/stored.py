"""A credential as the service keeps it: the credential plus ownership and bookkeeping."""

from dataclasses import dataclass, field

from integrations.credentials.domain.credentials import Credentials


@dataclass(frozen=True)
class RefreshState:
    """Why the last refreshes failed; cleared by the next successful refresh or update."""

    failed: bool = False
    attempts: int = 0
    last_error: str | None = None
    last_attempt_at: float | None = None
    # The provider refused the grant itself (e.g. `invalid_grant`): only reconnecting helps.
    reauthorize: bool = False


@dataclass(frozen=True)
class StoredCredentials:
    user_id: str
    credentials: Credentials
    # Optimistic concurrency: a write names the version it read and loses if it changed.
    version: int
    created_at: float
    updated_at: float
    refresh: RefreshState = field(default_factory=RefreshState)
    # Provisioned by the platform on the user's behalf (SPEC RT-6): listed and usable, but
    # the user can neither change nor delete it. Never set from a request body.
    managed: bool = False

    @property
    def id(self) -> str:
        return self.credentials.id
