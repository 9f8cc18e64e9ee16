"""Decrypted webhook secrets are cached by ciphertext; failures are not."""

import pytest

from integrations.crypto import CryptoError
from integrations.ingress.adapters.secret_cache import CachingCipher
from integrations.ingress.adapters.ttl_cache import TtlCache
from tests.unit.ingress_service.fixtures import CIPHER

pytestmark = pytest.mark.unit


class CountingCipher:
    def __init__(self) -> None:
        self.calls = 0

    def decrypt_text(self, token: str, *, associated_data: bytes = b"") -> str:
        self.calls += 1
        return CIPHER.decrypt_text(token, associated_data=associated_data)


def caching(inner: CountingCipher) -> CachingCipher:
    return CachingCipher(inner, TtlCache(max_entries=8, ttl_s=60))


def test_a_secret_is_decrypted_once_per_ciphertext() -> None:
    inner = CountingCipher()
    cipher = caching(inner)
    first = CIPHER.encrypt_text("s1", associated_data=b"wh-1")
    rotated = CIPHER.encrypt_text("s2", associated_data=b"wh-1")

    answers = [cipher.decrypt_text(token, associated_data=b"wh-1") for token in (first, first)]
    answers.append(cipher.decrypt_text(rotated, associated_data=b"wh-1"))

    assert answers == ["s1", "s1", "s2"]
    assert inner.calls == 2


def test_a_ciphertext_moved_to_another_webhook_still_fails_after_a_hit() -> None:
    cipher = caching(CountingCipher())
    token = CIPHER.encrypt_text("s1", associated_data=b"wh-1")
    assert cipher.decrypt_text(token, associated_data=b"wh-1") == "s1"

    with pytest.raises(CryptoError):
        cipher.decrypt_text(token, associated_data=b"wh-2")


def test_a_failure_is_not_cached() -> None:
    inner = CountingCipher()
    cipher = caching(inner)
    token = CIPHER.encrypt_text("s1", associated_data=b"wh-1")
    for _ in range(2):
        with pytest.raises(CryptoError):
            cipher.decrypt_text(token, associated_data=b"elsewhere")
    assert inner.calls == 2
