"""Deletes expired processed-event records and deliveries now and then.

Readers already ignore expired documents; this only keeps the collections from growing,
wherever TTL indexes do not (see `processed_events.INDEXES`). Every replica may run it: the
deletes are idempotent.
"""

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

log = logging.getLogger(__name__)


class Expiring(Protocol):
    async def purge_expired(self, *, now: datetime) -> int: ...


class Sweeper:
    def __init__(
        self,
        stores: Sequence[Expiring],
        *,
        interval_s: float,
        clock: Callable[[], datetime],
    ) -> None:
        self._stores = stores
        self._interval_s = interval_s
        self._clock = clock
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

    async def sweep(self) -> int:
        deleted = 0
        for store in self._stores:
            deleted += await store.purge_expired(now=self._clock())
        return deleted

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                deleted = await self.sweep()
            except Exception:
                log.warning("clean-up of expired records failed; retrying later", exc_info=True)
            else:
                if deleted:
                    log.info("deleted %d expired records", deleted)
