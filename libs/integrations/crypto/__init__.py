"""Secrets at rest and in transit: AES-256-GCM under per-purpose keys from a key ring.

Key ring (settings/env), root keys, primary first::

    <kid>:<base64url 32 bytes>,<kid>:<base64url 32 bytes>,...

The first entry is the primary: new ciphertexts use it, every entry still decrypts.
Rotate by generating a key (`generate_root_key`), putting it first, deploying, then
re-encrypting stored tokens (`Cipher.needs_rotation` / `Cipher.reencrypt`); drop the old
entry only when nothing uses it (`key_id_of`). Key ids: 1-64 of A-Z a-z 0-9 _ -.
Keys are unpadded base64url. Whitespace around entries is ignored.

Per purpose (`Purpose`: credentials, webhook-secrets, transport) each root key yields a
derived key: HKDF-SHA256(root, info="integrations.crypto.v1/<purpose>"). A service that may
only hold one purpose's keys (ingress) is given a derived ring instead of the root ring::

    <purpose>/<kid>:<base64url derived key>,...          (KeyRing.derive(p).export())

`Cipher.from_key_ring(text, purpose)` accepts either form.

Ciphertext token (str, safe for JSON and MongoDB)::

    v1.<kid>.<base64url(nonce 12 | ciphertext | tag 16)>

with associated data "v1.<kid>.<purpose>" NUL <caller's associated data, e.g. record id>.
Errors are in `integrations.crypto.errors`; none carries key material or plaintext.
"""

from integrations.crypto.aead import Cipher, key_id_of
from integrations.crypto.errors import (
    CryptoError,
    DecryptionFailed,
    InvalidKeyRing,
    MalformedCiphertext,
    UnknownKeyId,
)
from integrations.crypto.keyring import KeyRing, PurposeKeyRing, derive_key, load_purpose_keys
from integrations.crypto.keys import Purpose, RootKey, generate_root_key

__all__ = [
    "Cipher",
    "CryptoError",
    "DecryptionFailed",
    "InvalidKeyRing",
    "KeyRing",
    "MalformedCiphertext",
    "Purpose",
    "PurposeKeyRing",
    "RootKey",
    "UnknownKeyId",
    "derive_key",
    "generate_root_key",
    "key_id_of",
    "load_purpose_keys",
]
