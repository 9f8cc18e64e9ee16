import secrets
import time
from datetime import timedelta

from joserfc import jwt
from joserfc.jwk import OctKey
from pydantic import SecretStr

from integrations.auth.config import MIN_SECRET_BYTES


def issue_dev_token(
    secret: str | SecretStr,
    user_id: str,
    ttl: timedelta = timedelta(hours=1),
    *,
    audience: str | None = None,
    issuer: str | None = None,
    now: float | None = None,
) -> str:
    """An HS256 token for `user_id`, as the platform's auth service would issue one.

    For development and tests (`integrations token --user ID`); production tokens come
    from the platform's identity provider.
    """
    raw = secret.get_secret_value() if isinstance(secret, SecretStr) else secret
    key_bytes = raw.encode("utf-8")
    if len(key_bytes) < MIN_SECRET_BYTES:
        raise ValueError(f"the secret must be at least {MIN_SECRET_BYTES} bytes")
    if not user_id:
        raise ValueError("user_id must not be empty")
    if ttl <= timedelta(0):
        raise ValueError("ttl must be positive")
    issued_at = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "sub": user_id,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + int(ttl.total_seconds()),
        "jti": secrets.token_urlsafe(16),
    }
    if audience is not None:
        claims["aud"] = audience
    if issuer is not None:
        claims["iss"] = issuer
    return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(key_bytes), algorithms=["HS256"])
