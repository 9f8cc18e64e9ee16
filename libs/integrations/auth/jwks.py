import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key

from integrations.auth.errors import AuthenticationError, KeysUnavailable
from integrations.auth.keys import key_fits

log = logging.getLogger(__name__)


class JWKSKeySource:
    """Public keys from an issuer's JWKS URL, cached for `ttl_seconds`.

    An unknown `kid` triggers one refetch (the issuer may have just rotated), at most once per
    `cooldown_seconds` so that tokens with made-up kids cannot turn us into a load generator
    against the issuer. When a fetch fails, the keys already held keep being used; a key
    that cannot be found while the issuer is unreachable is `KeysUnavailable` (503), not a
    verdict on the token.
    """

    def __init__(
        self,
        url: str,
        client: httpx.AsyncClient,
        *,
        ttl_seconds: float = 600,
        cooldown_seconds: float = 30,
        timeout_seconds: float = 5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._client = client
        self._ttl = ttl_seconds
        self._cooldown = cooldown_seconds
        self._timeout = timeout_seconds
        self._clock = clock
        self._lock = asyncio.Lock()
        self._keys: list[Key] | None = None
        self._fetched_at = 0.0
        self._attempted_at: float | None = None
        self._attempts = 0
        self._last_attempt_failed = False

    async def key_for(self, kid: str | None, alg: str) -> Key:
        if self._due_for_refresh():
            await self._refresh()
        key = self._find(kid, alg)
        if key is None and self._cooled_down():
            await self._refresh()
            key = self._find(kid, alg)
        if key is not None:
            return key
        if self._keys is None or self._last_attempt_failed:
            raise KeysUnavailable()
        raise AuthenticationError("invalid_token")

    def _due_for_refresh(self) -> bool:
        if not self._cooled_down():
            return False
        return self._keys is None or self._clock() - self._fetched_at >= self._ttl

    def _cooled_down(self) -> bool:
        return self._attempted_at is None or self._clock() - self._attempted_at >= self._cooldown

    def _find(self, kid: str | None, alg: str) -> Key | None:
        candidates = [key for key in self._keys or () if key_fits(key, alg)]
        if kid is None:
            # Without a kid only an unambiguous key will do.
            return candidates[0] if len(candidates) == 1 else None
        return next((key for key in candidates if key.kid == kid), None)

    async def _refresh(self) -> None:
        attempts = self._attempts
        async with self._lock:
            if self._attempts != attempts:
                return  # another request fetched while this one waited: use its result
            try:
                self._keys = await self._fetch()
                self._fetched_at = self._clock()
                self._last_attempt_failed = False
            except (httpx.HTTPError, ValueError) as exc:
                log.warning("fetching JWKS from %s failed: %s", self._url, type(exc).__name__)
                self._last_attempt_failed = True
            finally:
                self._attempts += 1
                self._attempted_at = self._clock()

    async def _fetch(self) -> list[Key]:
        response = await self._client.get(
            self._url, headers={"Accept": "application/json"}, timeout=self._timeout
        )
        response.raise_for_status()
        document = response.json()
        entries = document.get("keys") if isinstance(document, dict) else None
        if not isinstance(entries, list):
            raise ValueError("JWKS document has no 'keys' list")
        return [key for key in map(_import_public_key, entries) if key is not None]

    def __repr__(self) -> str:
        return f"JWKSKeySource(url={self._url!r})"


def _import_public_key(entry: Any) -> Key | None:
    # One odd key (an unknown kty, a symmetric key that has no business in a public JWKS)
    # must not take the issuer's other keys down with it.
    if not isinstance(entry, dict) or entry.get("kty") not in ("RSA", "EC"):
        return None
    try:
        return JWKRegistry.import_key(entry)
    except (JoseError, ValueError, TypeError, KeyError):
        log.warning("skipping an unusable JWKS key (kid %r)", entry.get("kid"))
        return None
