from joserfc.jwk import ECKey, Key, OctKey

from integrations.auth.errors import AuthenticationError

# The key type (and curve) each accepted algorithm verifies with.
_KEY_TYPES = {"HS256": ("oct", None), "RS256": ("RSA", None), "ES256": ("EC", "P-256")}


def key_fits(key: Key, alg: str) -> bool:
    if alg not in _KEY_TYPES:
        return False
    key_type, curve = _KEY_TYPES[alg]
    if key.key_type != key_type:
        return False
    if curve is not None and not (isinstance(key, ECKey) and key.curve_name == curve):
        return False
    # A key that declares its algorithm or use is only good for that.
    return key.alg in (None, alg) and key.get("use") in (None, "sig")


class StaticKeySource:
    """One shared HS256 secret; the token's `kid`, if any, is irrelevant."""

    def __init__(self, secret: bytes) -> None:
        self._key = OctKey.import_key(secret)

    async def key_for(self, kid: str | None, alg: str) -> Key:
        if not key_fits(self._key, alg):
            raise AuthenticationError("invalid_token")
        return self._key

    def __repr__(self) -> str:
        return "StaticKeySource()"
