from typing import Literal, Self

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, SecretStr, model_validator

Algorithm = Literal["HS256", "RS256", "ES256"]
SYMMETRIC_ALGORITHMS: frozenset[Algorithm] = frozenset({"HS256"})
ASYMMETRIC_ALGORITHMS: frozenset[Algorithm] = frozenset({"RS256", "ES256"})

# RFC 7518 §3.2: an HMAC key at least as long as the hash; short ones are guessable offline.
MIN_SECRET_BYTES = 32


class AuthConfig(BaseModel):
    """How a service authenticates requests. Built by each service from its own settings."""

    # Inputs are secrets: keep them out of validation error messages.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    jwt_secret: SecretStr | None = Field(
        default=None, description="Shared HS256 secret; exclusive with jwks_url."
    )
    jwks_url: HttpUrl | None = Field(
        default=None, description="JWKS of the issuer (RS256/ES256); exclusive with jwt_secret."
    )
    algorithms: tuple[Algorithm, ...] = Field(
        default=(),
        description="Accepted `alg` values; empty means HS256 (secret) or RS256+ES256 (JWKS).",
    )
    audience: str | None = Field(default=None, description="Required `aud`, when set.")
    issuer: str | None = Field(default=None, description="Required `iss`, when set.")
    leeway_seconds: int = Field(default=30, ge=0, le=300, description="Clock skew allowed.")
    jwks_cache_ttl_seconds: float = Field(default=600, gt=0)
    jwks_refetch_cooldown_seconds: float = Field(
        default=30, ge=0, description="Least time between JWKS fetches (unknown kid, failure)."
    )
    jwks_timeout_seconds: float = Field(default=5, gt=0)
    service_token: SecretStr | None = Field(
        default=None, description="Shared token of /internal routes; unset refuses them all."
    )

    @model_validator(mode="after")
    def _check_mode(self) -> Self:
        if (self.jwt_secret is None) == (self.jwks_url is None):
            raise ValueError("set exactly one of jwt_secret and jwks_url")
        if self.jwt_secret is not None:
            _check_secret_length("jwt_secret", self.jwt_secret)
        if self.service_token is not None:
            _check_secret_length("service_token", self.service_token)
        # A mode accepts only its own family of algorithms: verifying HS256 with an RSA
        # public key as the "secret" is the classic algorithm-confusion forgery.
        family = SYMMETRIC_ALGORITHMS if self.jwt_secret is not None else ASYMMETRIC_ALGORITHMS
        if not set(self.algorithms) <= family:
            raise ValueError(f"algorithms for this mode must be among {sorted(family)}")
        return self

    @property
    def accepted_algorithms(self) -> frozenset[Algorithm]:
        if self.algorithms:
            return frozenset(self.algorithms)
        return SYMMETRIC_ALGORITHMS if self.jwt_secret is not None else ASYMMETRIC_ALGORITHMS


def _check_secret_length(name: str, secret: SecretStr) -> None:
    if len(secret.get_secret_value().encode("utf-8")) < MIN_SECRET_BYTES:
        raise ValueError(f"{name} must be at least {MIN_SECRET_BYTES} bytes")
