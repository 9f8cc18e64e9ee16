"""The background refresh job: refreshes OAuth2 tokens before they expire, so reads rarely
wait for a provider (DESIGN §4, "Credentials in use").

Every replica runs it. Replicas scan the same soonest-expiring credentials, so each scan is
shuffled and jittered, and each refresh goes through the refresher's leases: the replica
that wins a credential's lease refreshes it, and the others re-read under the lease, find
it fresh and move on. A credential in use longer than `wait_s` is left for the next scan.
"""

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

from integrations.credentials.domain.errors import CredentialsNotFound
from integrations.credentials.domain.leases import LeaseTimeout
from integrations.credentials.domain.ports import CredentialsRepository
from integrations.credentials.domain.refresh import CredentialsRefreshFailed, retry_due
from integrations.credentials.domain.stored import StoredCredentials
from integrations.credentials.refresher import Refresher

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BackgroundPolicy:
    # Refresh what expires within this horizon (longer than the read margin, so readers
    # seldom find an expiring token).
    horizon_s: float = 900.0
    interval_s: float = 60.0
    # Each pause is interval * (1 ± jitter).
    jitter: float = 0.2
    batch: int = 100
    concurrency: int = 4
    wait_s: float = 5.0


class BackgroundRefresher:
    def __init__(
        self,
        repository: CredentialsRepository,
        refresher: Refresher,
        *,
        policy: BackgroundPolicy | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._repository = repository
        self._refresher = refresher
        self.policy = policy or BackgroundPolicy()
        self._clock = clock
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def run_once(self) -> int:
        """One scan; the number of credentials it found due (refreshed or not)."""
        now = self._clock()
        expiring = await self._repository.expiring_before(
            now + self.policy.horizon_s, limit=self.policy.batch
        )
        due = [s for s in expiring if retry_due(s.refresh, self._refresher.policy.retry, now=now)]
        self._rng.shuffle(due)
        slots = asyncio.Semaphore(self.policy.concurrency)

        async def refresh(stored: StoredCredentials) -> None:
            async with slots:
                await self._refresh_one(stored)

        await asyncio.gather(*(refresh(stored) for stored in due))
        return len(due)

    async def _refresh_one(self, stored: StoredCredentials) -> None:
        try:
            await self._refresher.refresh_if_needed(
                stored, margin_s=self.policy.horizon_s, wait_s=self.policy.wait_s
            )
        except (LeaseTimeout, CredentialsNotFound, CredentialsRefreshFailed):
            pass  # in use, deleted meanwhile, or failed (marked and announced already)
        except Exception:
            log.warning(
                "background refresh failed",
                extra={"user_id": stored.user_id, "credentials_id": stored.id},
                exc_info=True,
            )

    async def _run(self) -> None:
        while True:
            spread = self.policy.jitter * (2 * self._rng.random() - 1)
            await asyncio.sleep(self.policy.interval_s * (1 + spread))
            try:
                await self.run_once()
            except Exception:
                log.warning("background refresh scan failed; retrying later", exc_info=True)
