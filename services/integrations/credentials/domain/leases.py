"""Leases on credentials (SPEC CM-2, CM-3, CM-6): the rules, without storage or clocks.

One lease document per (credential, slot)::

    holder     lease id of the holder, or None when free
    purpose    what it is held for ("use", "update", "refresh"): diagnostics only
    expires_at epoch seconds; a holder that stops heartbeating loses the lease then
    waiters    {waiter id: until}: priority claims of refreshes and updates that wait

Exclusion: a lease may be taken only when it has no live holder (`expires_at > now`).
Priority: a refresh or update that has to wait writes a claim into `waiters` and renews
it while it waits; while any claim is live, a plain acquirer does not take a free lease, so
it queues behind every refresh and update that is waiting. Claims carry their own expiry, so
a waiter that crashed stops blocking acquirers within one claim TTL. Every change is a
versioned replace of the whole document (compare-and-swap), so of two replicas deciding on
the same state exactly one wins and the other reads again; expiry is checked here against
the document's own times, never left to a TTL index.

Replicas compare `expires_at` with their own clocks: keep them in sync (NTP) and TTLs long
next to the skew.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Final
from urllib.parse import quote


class Slot(StrEnum):
    # Held while the credential is in use: acquirers, updates, deletes, locked refreshes.
    USE = "use"
    # Held while a provider refresh runs: makes refreshes single-flight even without USE.
    REFRESH = "refresh"


class LeaseTimeout(Exception):
    """The lease stayed taken for as long as the caller was willing to wait."""

    def __init__(self) -> None:
        super().__init__("The credentials are in use; retry shortly.")


class LeaseLost(Exception):
    """The lease expired or was released: the caller no longer holds it."""

    def __init__(self) -> None:
        super().__init__("The lease is no longer held: it expired or was released.")


FREE: Final = 0.0


@dataclass(frozen=True, slots=True)
class Lease:
    """A held lease, as its holder knows it."""

    key: str
    lease_id: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class LeaseState:
    """A lease document as read, `version` included for the compare-and-swap."""

    key: str
    version: int
    holder: str | None = None
    purpose: str | None = None
    expires_at: float = FREE
    waiters: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))

    def held(self, now: float) -> bool:
        return self.holder is not None and self.expires_at > now

    def held_by(self, lease_id: str, now: float) -> bool:
        return self.holder == lease_id and self.expires_at > now

    def live_waiters(self, now: float) -> dict[str, float]:
        return {waiter: until for waiter, until in self.waiters.items() if until > now}


def lease_key(user_id: str, credentials_id: str, slot: Slot) -> str:
    # Percent-encoded parts: no two (user, credential) pairs can share a key.
    return f"{quote(user_id, safe='')}/{quote(credentials_id, safe='')}#{slot.value}"


def may_take(state: LeaseState, *, priority: bool, now: float) -> bool:
    """Free, and either the caller has priority or no priority claim is waiting."""
    if state.held(now):
        return False
    return priority or not state.live_waiters(now)


def taken(
    state: LeaseState, *, lease_id: str, purpose: str, ttl_s: float, now: float, waiter: str | None
) -> LeaseState:
    """The state after `lease_id` took the lease; its own claim (if any) is withdrawn."""
    waiters = state.live_waiters(now)
    if waiter is not None:
        waiters.pop(waiter, None)
    return replace(
        state,
        holder=lease_id,
        purpose=purpose,
        expires_at=now + ttl_s,
        waiters=MappingProxyType(waiters),
    )


def claim_needs_renewal(state: LeaseState, waiter: str, *, claim_ttl_s: float, now: float) -> bool:
    """Renew at half-life, so a claim never lapses between two polls of a live waiter."""
    until = state.waiters.get(waiter)
    return until is None or until - now < claim_ttl_s / 2


def with_claim(state: LeaseState, waiter: str, *, claim_ttl_s: float, now: float) -> LeaseState:
    waiters = state.live_waiters(now) | {waiter: now + claim_ttl_s}
    return replace(state, waiters=MappingProxyType(waiters))


def without_claim(state: LeaseState, waiter: str, *, now: float) -> LeaseState:
    waiters = state.live_waiters(now)
    waiters.pop(waiter, None)
    return replace(state, waiters=MappingProxyType(waiters))


def released(state: LeaseState, *, now: float) -> LeaseState:
    return replace(
        state,
        holder=None,
        purpose=None,
        expires_at=FREE,
        waiters=MappingProxyType(state.live_waiters(now)),
    )


def renewed(state: LeaseState, *, ttl_s: float, now: float) -> LeaseState:
    return replace(state, expires_at=now + ttl_s)


def is_idle(state: LeaseState, *, now: float) -> bool:
    """Nobody holds it and nobody waits with priority: the document can go."""
    return not state.held(now) and not state.live_waiters(now)


def next_poll_delay(state: LeaseState, *, backoff_s: float, now: float) -> float:
    """Wait no longer than until the holder's expiry: a crashed holder is noticed at once."""
    if state.held(now):
        return max(0.0, min(backoff_s, state.expires_at - now))
    return backoff_s
