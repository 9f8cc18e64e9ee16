"""Refreshing OAuth2 access tokens (SPEC CM-1, CM-3): when, how fresh tokens merge into a
stored credential, and how failures are recorded. Pure: the provider call is a port."""

from dataclasses import dataclass
from typing import Final, Protocol

from pydantic import SecretStr

from integrations.credentials.domain.credentials import OAuth2Credentials
from integrations.credentials.domain.stored import RefreshState, StoredCredentials
from integrations.providers import OAuthTokens
from integrations.providers.oauth import REFRESH_MARGIN_SECONDS

READ_MARGIN_S: Final = REFRESH_MARGIN_SECONDS
MAX_ERROR_CHARS: Final = 512


class TokenRefresher(Protocol):
    """Asks the provider for fresh tokens; raises `RefreshRejected` for every failure."""

    async def refresh(self, credentials: OAuth2Credentials) -> OAuthTokens: ...


class RefreshRejected(Exception):
    """The provider (or its configuration here) did not give fresh tokens.

    `reason` is safe to store, log and publish: never a response body or a token.
    `reauthorize`: retrying cannot help (e.g. `invalid_grant`); the user must reconnect.
    """

    def __init__(self, reason: str, *, reauthorize: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason[:MAX_ERROR_CHARS]
        self.reauthorize = reauthorize


class CredentialsRefreshFailed(Exception):
    """The access token has expired and could not be refreshed (now, or recently)."""

    def __init__(self, reason: str | None, *, reauthorize: bool = False) -> None:
        super().__init__(
            "The credentials expired and could not be refreshed"
            + (f": {reason}" if reason else ".")
        )
        self.reauthorize = reauthorize


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """After a failed refresh, wait before asking the provider again (reads and the
    background job alike), doubling per consecutive failure."""

    initial_s: float = 30.0
    max_s: float = 3600.0

    def delay_after(self, attempts: int) -> float:
        return min(self.max_s, self.initial_s * 2.0 ** max(0, attempts - 1))


def refreshable(credentials: object) -> OAuth2Credentials | None:
    """OAuth2 credentials that expire and can be refreshed; None for anything else
    (returned as they are: SPEC CM-1)."""
    if not isinstance(credentials, OAuth2Credentials):
        return None
    if credentials.access_token_expires_at is None or credentials.refresh_token is None:
        return None
    return credentials


def needs_refresh(stored: StoredCredentials, *, margin_s: float, now: float) -> bool:
    credentials = refreshable(stored.credentials)
    return credentials is not None and credentials.expires_within(int(margin_s), now=now)


def has_expired(stored: StoredCredentials, *, now: float) -> bool:
    credentials = refreshable(stored.credentials)
    return credentials is not None and credentials.expires_within(0, now=now)


def retry_due(state: RefreshState, policy: RetryPolicy, *, now: float) -> bool:
    if not state.failed or state.last_attempt_at is None:
        return True
    # A refused grant waits the longest: only a reconnect (which clears the mark) should
    # fix it, but a refusal for a passing reason must not stick for ever.
    delay = policy.max_s if state.reauthorize else policy.delay_after(state.attempts)
    return now >= state.last_attempt_at + delay


def apply_tokens(credentials: OAuth2Credentials, tokens: OAuthTokens) -> OAuth2Credentials:
    """The credential with fresh tokens. SPEC CM-3: a provider that returns no refresh token
    leaves the old one in place (and its expiry); what the user named it stays."""
    rotated = tokens.refresh_token is not None
    return credentials.model_copy(
        update={
            "access_token": tokens.access_token,
            "access_token_expires_at": tokens.access_token_expires_at,
            "refresh_token": tokens.refresh_token if rotated else credentials.refresh_token,
            "refresh_token_expires_at": (
                tokens.refresh_token_expires_at if rotated else credentials.refresh_token_expires_at
            ),
            "scopes": list(tokens.scopes) if tokens.scopes else credentials.scopes,
            "username": credentials.username or tokens.username,
            "metadata": credentials.metadata | tokens.metadata,
        }
    )


def tokens_replaced_since(current: OAuth2Credentials, spent: OAuth2Credentials) -> bool:
    """Whether the stored tokens are no longer those our refresh started from (a reconnect
    stored a new grant meanwhile). Then ours belong to an older grant and the stored ones
    win; otherwise the concurrent write changed something else, and our tokens (the only
    ones the provider still honours after a rotation) must be written over it."""
    return _secret(current.refresh_token) != _secret(spent.refresh_token) or (
        _secret(current.access_token) != _secret(spent.access_token)
    )


def failed(state: RefreshState, rejected: RefreshRejected, *, now: float) -> RefreshState:
    return RefreshState(
        failed=True,
        attempts=state.attempts + 1,
        last_error=rejected.reason,
        last_attempt_at=now,
        reauthorize=rejected.reauthorize,
    )


def tokens_of(credentials: OAuth2Credentials) -> OAuthTokens:
    """What a provider handler is given to refresh."""
    return OAuthTokens(
        access_token=credentials.access_token,
        access_token_expires_at=credentials.access_token_expires_at,
        refresh_token=credentials.refresh_token,
        refresh_token_expires_at=credentials.refresh_token_expires_at,
        scopes=tuple(credentials.scopes),
        username=credentials.username,
        title=credentials.title,
        metadata=credentials.metadata,
    )


def _secret(value: SecretStr | None) -> str | None:
    return None if value is None else value.get_secret_value()
