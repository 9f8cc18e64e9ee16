"""Refresh-on-read and the background job's refresh (SPEC CM-1, CM-3): single-flight per
credential within this process (concurrent readers share one task) and across replicas
(leases), re-reading after the lease is won so a second worker never refreshes again.

A rotated refresh token is written in the same versioned write as its access token; a
write that loses the version race re-reads and writes the fresh tokens over the newer
document, unless that document already holds another grant's tokens (a reconnect).
"""

import asyncio
import logging
import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Final

from integrations.bus import Bus, BusError
from integrations.contracts.messages.base import Event
from integrations.credentials import events
from integrations.credentials.adapters.lease_store import LeaseStore
from integrations.credentials.domain.credentials import OAuth2Credentials
from integrations.credentials.domain.errors import ConcurrentUpdate, CredentialsNotFound
from integrations.credentials.domain.leases import LeaseTimeout, Slot, lease_key
from integrations.credentials.domain.ports import CredentialsRepository
from integrations.credentials.domain.refresh import (
    READ_MARGIN_S,
    CredentialsRefreshFailed,
    RefreshRejected,
    RetryPolicy,
    TokenRefresher,
    apply_tokens,
    failed,
    has_expired,
    needs_refresh,
    refreshable,
    retry_due,
    tokens_replaced_since,
)
from integrations.credentials.domain.stored import RefreshState, StoredCredentials

log = logging.getLogger(__name__)

WRITE_ATTEMPTS: Final = 10


@dataclass(frozen=True, slots=True)
class RefreshPolicy:
    read_margin_s: float = READ_MARGIN_S
    # Leases held while refreshing are heartbeated, so this only bounds a crashed refresher.
    lease_ttl_s: float = 30.0
    # How long a locked refresh waits for the credential to stop being in use (CM-3).
    wait_s: float = 30.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    # On stop, in-flight refreshes get this long to finish: cancelling one between the
    # provider's answer and the write would lose a rotated refresh token.
    drain_s: float = 10.0


_InFlight = tuple[str, str, bool]


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What a provider refresh ended in: the stored credential, the event to announce, and
    the provider's refusal if it refused."""

    stored: StoredCredentials
    event: Event | None = None
    rejected: RefreshRejected | None = None


class Refresher:
    """The `CredentialsRefresher` seam (`ensure_fresh`) and `refresh_if_needed` (CM-3)."""

    def __init__(
        self,
        repository: CredentialsRepository,
        leases: LeaseStore,
        tokens: TokenRefresher,
        bus: Bus,
        *,
        policy: RefreshPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._repository = repository
        self._leases = leases
        self._tokens = tokens
        self._bus = bus
        self.policy = policy or RefreshPolicy()
        self._clock = clock
        self._in_flight: dict[_InFlight, asyncio.Task[StoredCredentials]] = {}

    async def ensure_fresh(self, stored: StoredCredentials) -> StoredCredentials:
        """SPEC CM-1: what every read for use goes through."""
        return await self.refresh_if_needed(stored)

    async def refresh_if_needed(
        self,
        stored: StoredCredentials,
        *,
        lock: bool = True,
        margin_s: float | None = None,
        wait_s: float | None = None,
    ) -> StoredCredentials:
        """`stored`, or fresher credentials when its access token expires within `margin_s`.

        `lock=True` waits (at most `wait_s`) until the credential is not in use; `lock=False`
        is for a caller that holds the credential's use lease itself. Raises
        `CredentialsRefreshFailed` only when no usable access token is left.
        """
        margin = self.policy.read_margin_s if margin_s is None else margin_s
        now = self._clock()
        if not needs_refresh(stored, margin_s=margin, now=now):
            return stored
        if not retry_due(stored.refresh, self.policy.retry, now=now):
            return _usable(stored, now=now)
        # Keyed by `lock` too: a lease holder's unlocked refresh must never wait on a locked
        # one, which waits for that very lease.
        key = (stored.user_id, stored.id, lock)
        task = self._in_flight.get(key)
        if task is None:
            wait = self.policy.wait_s if wait_s is None else wait_s
            task = asyncio.create_task(
                self._refresh(stored, lock=lock, margin_s=margin, wait_s=wait)
            )
            self._in_flight[key] = task
            task.add_done_callback(lambda done: self._forget(key, done))
        # Shielded: a reader that gives up (a dropped request) does not cancel the others'.
        return await asyncio.shield(task)

    async def stop(self) -> None:
        pending = set(self._in_flight.values())
        if not pending:
            return
        _, late = await asyncio.wait(pending, timeout=self.policy.drain_s)
        for task in late:
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)

    def _forget(self, key: _InFlight, done: asyncio.Task[StoredCredentials]) -> None:
        if self._in_flight.get(key) is done:
            del self._in_flight[key]
        if not done.cancelled():
            done.exception()  # retrieved here, so a task nobody awaits any more stays quiet

    async def _refresh(
        self, stored: StoredCredentials, *, lock: bool, margin_s: float, wait_s: float
    ) -> StoredCredentials:
        user_id, credentials_id = stored.user_id, stored.id
        ttl = self.policy.lease_ttl_s
        try:
            async with AsyncExitStack() as held:
                if lock:
                    await held.enter_async_context(
                        self._leases.holding(
                            lease_key(user_id, credentials_id, Slot.USE),
                            ttl_s=ttl,
                            purpose="refresh",
                            priority=True,
                            timeout_s=wait_s,
                        )
                    )
                await held.enter_async_context(
                    self._leases.holding(
                        lease_key(user_id, credentials_id, Slot.REFRESH),
                        ttl_s=ttl,
                        purpose="refresh",
                        timeout_s=wait_s,
                    )
                )
                # CM-3: whoever held the lease before us may have refreshed already.
                latest = await self._current(user_id, credentials_id)
                now = self._clock()
                if not needs_refresh(latest, margin_s=margin_s, now=now):
                    return latest
                if not retry_due(latest.refresh, self.policy.retry, now=now):
                    return _usable(latest, now=now)
                outcome = await self._refresh_now(latest)
        except LeaseTimeout:
            # In use for longer than we wait: the stored token serves while it is valid.
            latest = await self._current(user_id, credentials_id)
            if has_expired(latest, now=self._clock()):
                raise
            return latest
        # Announced once the leases are back: a slow broker must not keep the credential.
        await self._publish(outcome.event)
        if outcome.rejected is None:
            return outcome.stored
        return _usable(outcome.stored, now=self._clock(), rejected=outcome.rejected)

    async def _refresh_now(self, latest: StoredCredentials) -> _Outcome:
        spent = _oauth2(latest)
        try:
            tokens = await self._tokens.refresh(spent)
        except RefreshRejected as rejected:
            log.warning(
                "credentials refresh failed",
                extra={"user_id": latest.user_id, "credentials_id": latest.id},
            )
            marked = await self._mark_failed(latest, rejected) or latest
            event = events.refresh_failed(
                marked, reason=rejected.reason, reauthorize=rejected.reauthorize
            )
            return _Outcome(marked, event, rejected)
        current, credentials = latest, spent
        for _ in range(WRITE_ATTEMPTS):
            written = await self._repository.replace(
                current, apply_tokens(credentials, tokens), refresh=RefreshState()
            )
            if written is not None:
                log.info(
                    "credentials refreshed",
                    extra={"user_id": written.user_id, "credentials_id": written.id},
                )
                return _Outcome(written, events.refreshed(written))
            # Lost a version race: merge into what is stored now rather than drop the tokens.
            current = await self._current(latest.user_id, latest.id)
            same = _replaced_or_same(current, spent)
            if same is None:
                return _Outcome(current)
            credentials = same
        raise ConcurrentUpdate()

    async def _mark_failed(
        self, latest: StoredCredentials, rejected: RefreshRejected
    ) -> StoredCredentials | None:
        current: StoredCredentials | None = latest
        for _ in range(WRITE_ATTEMPTS):
            if current is None or _replaced_or_same(current, _oauth2(latest)) is None:
                return current  # deleted, or new tokens arrived: nothing failed any more
            state = failed(current.refresh, rejected, now=self._clock())
            written = await self._repository.replace(current, current.credentials, refresh=state)
            if written is not None:
                return written
            current = await self._repository.get(latest.user_id, latest.id)
        return current

    async def _current(self, user_id: str, credentials_id: str) -> StoredCredentials:
        current = await self._repository.get(user_id, credentials_id)
        if current is None:
            raise CredentialsNotFound()
        return current

    async def _publish(self, event: Event | None) -> None:
        if event is None:
            return
        try:
            await events.publish(self._bus, event)
        except BusError:
            # The refresh itself is stored; only its announcement is lost.
            log.warning("could not publish %s", type(event).__name__, exc_info=True)


def _usable(
    stored: StoredCredentials, *, now: float, rejected: RefreshRejected | None = None
) -> StoredCredentials:
    """The stored credential while its access token is still valid; otherwise the failure."""
    if not has_expired(stored, now=now):
        return stored
    if rejected is not None:
        raise CredentialsRefreshFailed(rejected.reason, reauthorize=rejected.reauthorize)
    raise CredentialsRefreshFailed(
        stored.refresh.last_error, reauthorize=stored.refresh.reauthorize
    )


def _replaced_or_same(
    current: StoredCredentials, spent: OAuth2Credentials
) -> OAuth2Credentials | None:
    """`current`'s credential if it still holds the tokens we refreshed from; None when a
    newer grant (or a non-OAuth2 write) replaced them."""
    credentials = current.credentials
    if not isinstance(credentials, OAuth2Credentials) or tokens_replaced_since(credentials, spent):
        return None
    return credentials


def _oauth2(stored: StoredCredentials) -> OAuth2Credentials:
    credentials = refreshable(stored.credentials)
    if credentials is None:
        # Only a rule-breaking write could change the type or drop the refresh token.
        raise CredentialsNotFound()
    return credentials
