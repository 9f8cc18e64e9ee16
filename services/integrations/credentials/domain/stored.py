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


@dataclass(frozen=True)
class StoredCredentials:
    user_id: str
    credentials: Credentials
    # Optimistic concurrency: a write names the version it read and loses if it changed.
    version: int
    created_at: float
    updated_at: float
    refresh: RefreshState = field(default_factory=RefreshState)

    @property
    def id(self) -> str:
        return self.credentials.id
