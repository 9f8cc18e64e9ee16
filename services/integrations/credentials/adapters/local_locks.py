"""`CredentialLocks` within one process: an asyncio.Lock per credential.

Enough for the embedded default and a single replica. Across replicas, optimistic
concurrency (the `version` check on every write) still keeps updates from being lost; the
distributed lease (SPEC CM-2..CM-6) replaces this class to also serialise them.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class LocalCredentialLocks:
    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._users: dict[tuple[str, str], int] = {}

    @asynccontextmanager
    async def exclusive(self, user_id: str, credentials_id: str) -> AsyncIterator[None]:
        key = (user_id, credentials_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            # Forget the lock once nobody holds or awaits it, so the map stays small.
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
