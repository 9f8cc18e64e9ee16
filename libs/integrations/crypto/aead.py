import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from integrations.crypto.encoding import b64url_decode, b64url_encode
from integrations.crypto.errors import DecryptionFailed, MalformedCiphertext, UnknownKeyId
from integrations.crypto.keyring import PurposeKeyRing, load_purpose_keys
from integrations.crypto.keys import Purpose, is_valid_kid

FORMAT_VERSION = "v1"
NONCE_BYTES = 12
TAG_BYTES = 16


class Cipher:
    """AES-256-GCM with the derived keys of one purpose.

    Tokens are `v1.<kid>.<base64url(nonce | ciphertext | tag)>`. The version, key id and
    purpose are authenticated together with the caller's associated data, so a token
    moved to another record, purpose or key id fails to decrypt.
    """

    def __init__(self, keys: PurposeKeyRing) -> None:
        self._keys = keys
        self._aeads = {kid: AESGCM(keys.key(kid)) for kid in keys.kids}

    @classmethod
    def from_key_ring(cls, text: str, purpose: Purpose) -> "Cipher":
        """From a root key ring or a derived ring of `purpose` (see the package docs)."""
        return cls(load_purpose_keys(text, purpose))

    @property
    def purpose(self) -> Purpose:
        return self._keys.purpose

    @property
    def primary_kid(self) -> str:
        return self._keys.primary_kid

    def encrypt(self, plaintext: bytes, *, associated_data: bytes = b"") -> str:
        kid = self.primary_kid
        # Random 96-bit nonces are safe for far more messages per key than one key will
        # see between rotations; a counter would need coordination across replicas.
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._aeads[kid].encrypt(nonce, plaintext, self._aad(kid, associated_data))
        return f"{FORMAT_VERSION}.{kid}.{b64url_encode(nonce + sealed)}"

    def decrypt(self, token: str, *, associated_data: bytes = b"") -> bytes:
        kid, payload = _split(token)
        aead = self._aeads.get(kid)
        if aead is None:
            raise UnknownKeyId(kid)
        nonce, sealed = payload[:NONCE_BYTES], payload[NONCE_BYTES:]
        try:
            return aead.decrypt(nonce, sealed, self._aad(kid, associated_data))
        except InvalidTag:
            raise DecryptionFailed() from None

    def encrypt_text(self, plaintext: str, *, associated_data: bytes = b"") -> str:
        return self.encrypt(plaintext.encode("utf-8"), associated_data=associated_data)

    def decrypt_text(self, token: str, *, associated_data: bytes = b"") -> str:
        plaintext = self.decrypt(token, associated_data=associated_data)
        try:
            return plaintext.decode("utf-8")
        except UnicodeDecodeError:
            raise DecryptionFailed("plaintext is not text") from None

    def needs_rotation(self, token: str) -> bool:
        return key_id_of(token) != self.primary_kid

    def reencrypt(self, token: str, *, associated_data: bytes = b"") -> str:
        """The token under the primary key; unchanged when it already is (no write churn)."""
        if not self.needs_rotation(token):
            return token
        plaintext = self.decrypt(token, associated_data=associated_data)
        return self.encrypt(plaintext, associated_data=associated_data)

    def _aad(self, kid: str, associated_data: bytes) -> bytes:
        # The header has no NUL, so header and caller data cannot be shifted into each other.
        header = f"{FORMAT_VERSION}.{kid}.{self.purpose.value}".encode("ascii")
        return header + b"\x00" + associated_data

    def __repr__(self) -> str:
        return f"Cipher(purpose={self.purpose.value!r}, kids={self._keys.kids!r})"


def key_id_of(token: str) -> str:
    """The id of the root key a token was made with (public; for rotation and metrics)."""
    return _split(token)[0]


def _split(token: str) -> tuple[str, bytes]:
    parts = token.split(".")
    if len(parts) != 3 or parts[0] != FORMAT_VERSION:
        raise MalformedCiphertext(f"not a {FORMAT_VERSION} ciphertext token")
    _, kid, encoded = parts
    if not is_valid_kid(kid):
        raise MalformedCiphertext("ciphertext token has an invalid key id")
    try:
        payload = b64url_decode(encoded)
    except ValueError:
        raise MalformedCiphertext("ciphertext token payload is not base64url") from None
    if len(payload) < NONCE_BYTES + TAG_BYTES:
        raise MalformedCiphertext("ciphertext token is too short")
    return kid, payload
