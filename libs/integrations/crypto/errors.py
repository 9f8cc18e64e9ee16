"""Errors of the crypto package.

    CryptoError
    ├── InvalidKeyRing        a key-ring string or key cannot be used (parse or config time)
    ├── UnknownKeyId          a token names a key id this ring does not hold
    └── DecryptionFailed      the token does not authenticate: tampered, wrong key,
        │                     wrong purpose or wrong associated data
        └── MalformedCiphertext   not a token of a format this package writes

Messages name key ids (public) and positions, never key material or plaintext.
The names read as outcomes (`except DecryptionFailed`), hence no `Error` suffix.
"""


class CryptoError(Exception):
    pass


class InvalidKeyRing(CryptoError):
    pass


class UnknownKeyId(CryptoError):
    def __init__(self, kid: str) -> None:
        super().__init__(f"no key with id {kid!r} in the key ring")
        self.kid = kid


class DecryptionFailed(CryptoError):
    def __init__(self, message: str = "ciphertext could not be authenticated") -> None:
        super().__init__(message)


class MalformedCiphertext(DecryptionFailed):
    pass
