from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from joserfc.jwk import Key


@dataclass(frozen=True)
class AuthenticatedUser:
    user_id: str
    claims: Mapping[str, Any]


class TokenVerifier(Protocol):
    async def verify(self, token: str) -> AuthenticatedUser:
        """The user a bearer token stands for; raises `AuthenticationError`."""
        ...


class KeySource(Protocol):
    async def key_for(self, kid: str | None, alg: str) -> Key:
        """The verification key for a token header; raises `AuthenticationError`."""
        ...
