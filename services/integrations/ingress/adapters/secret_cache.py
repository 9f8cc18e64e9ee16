"""Webhook secrets decrypted once, not on every delivery.

Decrypting (key derivation lookup, base64, AES-GCM) cost a delivery about as much as
verifying its signature. A secret's ciphertext names it exactly: a rotated secret or a
re-encryption under a new key is a new ciphertext, so an entry is never stale, and the
cache's bounds (size, age) only limit memory and how long a plaintext stays in it.
"""

from integrations.ingress.adapters.ttl_cache import TtlCache
from integrations.ingress.handlers import SecretCipher


class CachingCipher:
    def __init__(self, cipher: SecretCipher, cache: TtlCache[tuple[str, bytes], str]) -> None:
        self._cipher = cipher
        self._cache = cache

    def decrypt_text(self, token: str, *, associated_data: bytes = b"") -> str:
        key = (token, associated_data)
        plaintext = self._cache.get(key)
        if plaintext is None:
            # Failures are not cached: they raise, and a fixed key ring must take effect.
            plaintext = self._cipher.decrypt_text(token, associated_data=associated_data)
            self._cache.put(key, plaintext)
        return plaintext
