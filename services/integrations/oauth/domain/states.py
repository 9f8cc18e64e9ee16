"""OAuth state tokens (SPEC CS-8, CS-9): what a login remembers for its callback.

The token travels through the user's browser and the provider; only its SHA-256 is stored,
so a read of the database yields no usable state. Its PKCE verifier never leaves this
service except in the code exchange.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

STATE_TTL_SECONDS = 10 * 60
TOKEN_BYTES = 32
# 96 random bytes are 128 url-safe characters: the longest verifier RFC 7636 §4.1 allows.
VERIFIER_BYTES = 96


class OAuthState(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    token_hash: str = Field(description="SHA-256 (hex) of the state token.")
    user_id: str
    provider: str
    scopes: tuple[str, ...] = Field(description="What was asked for, defaults applied.")
    code_verifier: SecretStr
    callback_url: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    initiated_by_api_key_id: str | None = None
    created_at: float
    expires_at: float

    def accepts(self, token: str, *, user_id: str, provider: str) -> bool:
        """SPEC CS-9: the same token (compared in constant time), user and provider."""
        same_token = hmac.compare_digest(self.token_hash, hash_token(token))
        return same_token and self.user_id == user_id and self.provider == provider

    def is_expired(self, now: float) -> bool:
        return now >= self.expires_at


@dataclass(frozen=True, slots=True)
class IssuedState:
    token: str  # goes to the provider as `state`, and back to the caller
    code_challenge: str  # S256 of the stored verifier
    state: OAuthState


def issue_state(
    *,
    user_id: str,
    provider: str,
    scopes: tuple[str, ...],
    now: float,
    callback_url: str | None = None,
    metadata: dict[str, Any] | None = None,
    initiated_by_api_key_id: str | None = None,
) -> IssuedState:
    """SPEC CS-8."""
    token = secrets.token_urlsafe(TOKEN_BYTES)
    verifier = secrets.token_urlsafe(VERIFIER_BYTES)
    state = OAuthState(
        token_hash=hash_token(token),
        user_id=user_id,
        provider=provider,
        scopes=scopes,
        code_verifier=SecretStr(verifier),
        callback_url=callback_url,
        metadata=metadata or {},
        initiated_by_api_key_id=initiated_by_api_key_id,
        created_at=now,
        expires_at=now + STATE_TTL_SECONDS,
    )
    return IssuedState(token=token, code_challenge=s256_challenge(verifier), state=state)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def s256_challenge(verifier: str) -> str:
    """RFC 7636 §4.2: base64url(SHA-256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
