"""Leases over the document-collection port: one document per lease key (see
`domain/leases.py` for the rules and the document's fields).

Every change is a compare-and-swap (`replace` with the version read; `insert` for the first
holder, `DuplicateKey` meaning someone else was first), so the store needs nothing beyond
single-document atomicity: no TTL index, no transaction. Waiters poll with a jittered
backoff that never outlasts the holder's expiry; waiters in this process are also woken as
soon as this process releases the lease.
"""

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Final

from integrations.credentials.domain.leases import (
    FREE,
    Lease,
    LeaseLost,
    LeaseState,
    LeaseTimeout,
    claim_needs_renewal,
    is_idle,
    may_take,
    next_poll_delay,
    released,
    renewed,
    taken,
    with_claim,
    without_claim,
)
from integrations.storage import VERSION_FIELD, Document, DocumentCollection, DuplicateKey

log = logging.getLogger(__name__)

COLLECTION: Final = "credential_leases"


@dataclass(frozen=True, slots=True)
class PollPolicy:
    initial_s: float = 0.02
    max_s: float = 0.25
    # A priority claim outlives several polls, so only a waiter that stopped polling loses it.
    claim_ttl_s: float = 5.0


class LeaseStore:
    """`clock` gives lease times (epoch seconds, shared by every replica); waiting and
    timeouts use the event loop's monotonic time, so a test may freeze `clock`."""

    def __init__(
        self,
        collection: DocumentCollection,
        *,
        clock: Callable[[], float] = time.time,
        poll: PollPolicy | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self._docs = collection
        self._clock = clock
        self._poll = poll or PollPolicy()
        self._rng = rng
        # Leases this process took for its own work (not for a client): release_all drops them.
        self._held: dict[str, str] = {}
        # Local wake-ups: key → (event set on release here, number of local waiters).
        self._changed: dict[str, tuple[asyncio.Event, int]] = {}

    async def acquire(
        self,
        key: str,
        *,
        ttl_s: float,
        purpose: str,
        priority: bool = False,
        timeout_s: float | None = None,
        own: bool = True,
    ) -> Lease:
        """Wait until the lease is ours; `LeaseTimeout` after `timeout_s` (None: forever).

        `priority` (refreshes, updates) jumps ahead of plain acquirers that wait. `own=False`
        for a lease held on behalf of a client, which `release_all` must leave alone: the
        client heartbeats it through any replica and releases it itself.
        """
        lease_id = uuid.uuid4().hex
        waiter = uuid.uuid4().hex if priority else None
        deadline = None if timeout_s is None else asyncio.get_running_loop().time() + timeout_s
        backoff = self._poll.initial_s
        lease: Lease | None = None
        try:
            while True:
                now = self._clock()
                state = await self._read(key)
                if state is None:
                    lease = await self._insert_first(key, lease_id, purpose, ttl_s, now)
                    if lease is not None:
                        break
                    continue
                if may_take(state, priority=priority, now=now):
                    new = taken(
                        state,
                        lease_id=lease_id,
                        purpose=purpose,
                        ttl_s=ttl_s,
                        now=now,
                        waiter=waiter,
                    )
                    if await self._write(new):
                        lease = Lease(key, lease_id, new.expires_at)
                        break
                    continue
                if waiter is not None and claim_needs_renewal(
                    state, waiter, claim_ttl_s=self._poll.claim_ttl_s, now=now
                ):
                    claimed = with_claim(state, waiter, claim_ttl_s=self._poll.claim_ttl_s, now=now)
                    if not await self._write(claimed):
                        continue
                delay = next_poll_delay(state, backoff_s=self._jittered(backoff), now=now)
                if deadline is not None:
                    remaining = deadline - asyncio.get_running_loop().time()
                    if remaining <= 0:
                        raise LeaseTimeout()
                    delay = min(delay, remaining)
                await self._pause(key, delay)
                backoff = min(backoff * 2, self._poll.max_s)
        finally:
            if lease is None:
                # Timed out or cancelled, perhaps right after a write that took the lease.
                await self._abandon(key, lease_id, waiter)
        if own:
            self._held[lease_id] = key
        return lease

    async def heartbeat(self, key: str, lease_id: str, *, ttl_s: float) -> Lease:
        """Extend a held lease to `now + ttl_s`; `LeaseLost` if it expired or went."""
        while True:
            now = self._clock()
            state = await self._read(key)
            if state is None or not state.held_by(lease_id, now):
                self._held.pop(lease_id, None)
                raise LeaseLost()
            new = renewed(state, ttl_s=ttl_s, now=now)
            if await self._write(new):
                return Lease(key, lease_id, new.expires_at)

    async def release(self, key: str, lease_id: str) -> bool:
        """True if this call released it; False if it was not held by `lease_id` (any more).

        Idempotent. A lease that expired but was not taken since is still released.
        """
        self._held.pop(lease_id, None)
        while True:
            now = self._clock()
            state = await self._read(key)
            if state is None or state.holder != lease_id:
                return False
            new = released(state, now=now)
            # Idle documents go, so the collection holds only leases that matter.
            if is_idle(new, now=now):
                done = await self._docs.delete(key, expected_version=state.version)
            else:
                done = await self._write(new)
            if done:
                self._wake(key)
                return True

    async def release_all(self) -> int:
        """SPEC CM-6: release what this process holds for itself (on shutdown)."""
        released_count = 0
        for lease_id, key in list(self._held.items()):
            try:
                released_count += await self.release(key, lease_id)
            except Exception:
                # It expires by itself; stopping must go on.
                log.warning("could not release lease %s on shutdown", key, exc_info=True)
        return released_count

    @asynccontextmanager
    async def holding(
        self,
        key: str,
        *,
        ttl_s: float,
        purpose: str,
        priority: bool = False,
        timeout_s: float | None = None,
    ) -> AsyncIterator[Lease]:
        """Hold the lease for the block, heartbeating it at a third of its TTL, so a long
        block (a slow provider) keeps it while a crash lets it expire."""
        lease = await self.acquire(
            key, ttl_s=ttl_s, purpose=purpose, priority=priority, timeout_s=timeout_s
        )
        keeper = asyncio.create_task(self._keep(lease, ttl_s))
        try:
            yield lease
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            try:
                await self.release(key, lease.lease_id)
            except Exception:
                # Never mask the block's own outcome: the lease expires by itself.
                log.warning("could not release lease %s", key, exc_info=True)

    async def _keep(self, lease: Lease, ttl_s: float) -> None:
        while True:
            await asyncio.sleep(ttl_s / 3)
            try:
                await self.heartbeat(lease.key, lease.lease_id, ttl_s=ttl_s)
            except LeaseLost:
                log.warning("lease %s lost while held (an event loop stall?)", lease.key)
                return
            except Exception:
                log.warning("lease %s heartbeat failed; retrying", lease.key, exc_info=True)

    async def _insert_first(
        self, key: str, lease_id: str, purpose: str, ttl_s: float, now: float
    ) -> Lease | None:
        state = LeaseState(
            key=key, version=0, holder=lease_id, purpose=purpose, expires_at=now + ttl_s
        )
        doc = _to_document(state)
        del doc[VERSION_FIELD]  # the store gives a new document its first version
        try:
            await self._docs.insert(doc)
        except DuplicateKey:
            return None  # another acquirer was first: read again
        return Lease(key, lease_id, state.expires_at)

    async def _abandon(self, key: str, lease_id: str, waiter: str | None) -> None:
        """Best effort: give back a lease we may have just taken, withdraw our claim.
        Anything left behind expires by itself."""
        try:
            if await self.release(key, lease_id):
                return
            if waiter is None:
                return
            for _ in range(3):
                now = self._clock()
                state = await self._read(key)
                if state is None or waiter not in state.waiters:
                    return
                if await self._write(without_claim(state, waiter, now=now)):
                    self._wake(key)
                    return
        except Exception:
            log.debug("could not withdraw from lease %s", key, exc_info=True)

    async def _read(self, key: str) -> LeaseState | None:
        doc = await self._docs.get(key)
        return None if doc is None else _from_document(doc)

    async def _write(self, state: LeaseState) -> bool:
        return await self._docs.replace(_to_document(state), expected_version=state.version)

    async def _pause(self, key: str, delay: float) -> None:
        changed, waiting = self._changed.get(key, (asyncio.Event(), 0))
        self._changed[key] = (changed, waiting + 1)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), delay)
        finally:
            current, waiting = self._changed.get(key, (None, 0))
            if current is changed:
                if waiting > 1:
                    self._changed[key] = (changed, waiting - 1)
                else:
                    del self._changed[key]

    def _wake(self, key: str) -> None:
        if (entry := self._changed.pop(key, None)) is not None:
            entry[0].set()

    def _jittered(self, delay: float) -> float:
        # ±50%: waiters on several replicas spread out instead of polling in lockstep.
        return delay * (0.5 + self._rng())


def _to_document(state: LeaseState) -> Document:
    return {
        "_id": state.key,
        "holder": state.holder,
        "purpose": state.purpose,
        "expires_at": float(state.expires_at),
        "waiters": {waiter: float(until) for waiter, until in state.waiters.items()},
        VERSION_FIELD: state.version,
    }


def _from_document(doc: Mapping[str, Any]) -> LeaseState:
    return LeaseState(
        key=str(doc["_id"]),
        version=int(doc[VERSION_FIELD]),
        holder=doc.get("holder"),
        purpose=doc.get("purpose"),
        expires_at=float(doc.get("expires_at") or FREE),
        waiters={str(k): float(v) for k, v in (doc.get("waiters") or {}).items()},
    )
