import time
from collections.abc import Callable, Collection
from types import MappingProxyType

import httpx
from joserfc import jws, jwt
from joserfc.errors import ClaimError, ExpiredTokenError, JoseError

from integrations.auth.config import AuthConfig
from integrations.auth.errors import AuthenticationError, AuthenticationReason
from integrations.auth.jwks import JWKSKeySource
from integrations.auth.keys import StaticKeySource
from integrations.auth.types import AuthenticatedUser, KeySource

_CLAIM_REASONS: dict[str, AuthenticationReason] = {
    "aud": "invalid_audience",
    "iss": "invalid_issuer",
}


class JWTVerifier:
    """Verifies a compact JWS bearer token: allowed `alg`, signature, then claims."""

    def __init__(
        self,
        keys: KeySource,
        *,
        algorithms: Collection[str],
        audience: str | None = None,
        issuer: str | None = None,
        leeway_seconds: int = 30,
        clock: Callable[[], float] = time.time,
    ) -> None:
        # "none" never gets in, whatever the caller passes.
        self._algorithms = frozenset(algorithms) - {"none"}
        self._keys = keys
        self._audience = audience
        self._issuer = issuer
        self._leeway = leeway_seconds
        self._clock = clock

    async def verify(self, token: str) -> AuthenticatedUser:
        alg, kid = self._checked_header(token)
        key = await self._keys.key_for(kid, alg)
        try:
            # Only the header's own alg, already checked against the allow-list and matched
            # to the key: joserfc cannot be talked into another algorithm.
            claims = jwt.decode(token, key, algorithms=[alg]).claims
        except (JoseError, ValueError):
            raise AuthenticationError("invalid_token") from None
        self._validate_claims(claims)
        return AuthenticatedUser(user_id=claims["sub"], claims=MappingProxyType(claims))

    def _checked_header(self, token: str) -> tuple[str, str | None]:
        try:
            header = jws.extract_compact(token.encode("utf-8")).headers()
        except (JoseError, ValueError):
            raise AuthenticationError("invalid_token") from None
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in self._algorithms:
            raise AuthenticationError("invalid_token")
        if not isinstance(kid, str | None):
            raise AuthenticationError("invalid_token")
        # We implement no critical extensions, so per RFC 7515 §4.1.11 any `crit` is fatal
        # (joserfc would otherwise honour b64=false).
        if "crit" in header:
            raise AuthenticationError("invalid_token")
        return alg, kid

    def _validate_claims(self, claims: dict[str, object]) -> None:
        options: dict[str, jwt.ClaimsOption] = {
            "sub": {"essential": True},
            # A token without an expiry would be valid forever.
            "exp": {"essential": True},
        }
        if self._audience is not None:
            options["aud"] = {"essential": True, "value": self._audience}
        if self._issuer is not None:
            options["iss"] = {"essential": True, "value": self._issuer}
        registry = jwt.JWTClaimsRegistry(now=int(self._clock()), leeway=self._leeway, **options)
        try:
            registry.validate(claims)
        except ExpiredTokenError:
            raise AuthenticationError("expired_token") from None
        except ClaimError as exc:
            raise AuthenticationError(_CLAIM_REASONS.get(exc.claim, "invalid_claims")) from None

    def __repr__(self) -> str:
        return f"JWTVerifier(keys={self._keys!r}, algorithms={sorted(self._algorithms)!r})"


def build_verifier(config: AuthConfig, http_client: httpx.AsyncClient | None = None) -> JWTVerifier:
    """The verifier `config` describes; JWKS mode fetches keys with `http_client`."""
    keys: KeySource
    if config.jwt_secret is not None:
        keys = StaticKeySource(config.jwt_secret.get_secret_value().encode("utf-8"))
    elif config.jwks_url is not None:
        if http_client is None:
            raise ValueError("JWKS mode needs an httpx.AsyncClient")
        keys = JWKSKeySource(
            str(config.jwks_url),
            http_client,
            ttl_seconds=config.jwks_cache_ttl_seconds,
            cooldown_seconds=config.jwks_refetch_cooldown_seconds,
            timeout_seconds=config.jwks_timeout_seconds,
        )
    else:  # pragma: no cover - AuthConfig guarantees one mode
        raise ValueError("AuthConfig has neither jwt_secret nor jwks_url")
    return JWTVerifier(
        keys,
        algorithms=config.accepted_algorithms,
        audience=config.audience,
        issuer=config.issuer,
        leeway_seconds=config.leeway_seconds,
    )
