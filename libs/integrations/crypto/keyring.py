from collections.abc import Iterable, Sequence

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from integrations.crypto.encoding import b64url_decode, b64url_encode
from integrations.crypto.errors import InvalidKeyRing, UnknownKeyId
from integrations.crypto.keys import KID_RULE, ROOT_KEY_BYTES, Purpose, RootKey, is_valid_kid

# Versioned so a future derivation can live next to this one during a migration.
_HKDF_INFO_PREFIX = b"integrations.crypto.v1/"


def derive_key(root: RootKey, purpose: Purpose) -> bytes:
    hkdf = HKDF(
        algorithm=hashes.SHA256(),
        length=ROOT_KEY_BYTES,
        # Root keys are uniformly random already; HKDF needs no salt to extract from them.
        salt=None,
        info=_HKDF_INFO_PREFIX + purpose.value.encode("ascii"),
    )
    return hkdf.derive(root.material)


class KeyRing:
    """Root keys by id; the first one is the primary (the one new ciphertexts use)."""

    def __init__(self, keys: Sequence[RootKey]) -> None:
        _checked_entries((key.kid, key.material) for key in keys)
        self._keys = {key.kid: key for key in keys}

    @classmethod
    def parse(cls, text: str) -> "KeyRing":
        if "/" in text:
            raise InvalidKeyRing("this is a derived (per-purpose) key ring, not a root key ring")
        return cls([RootKey(kid, material) for kid, material in _parse_entries(text)])

    def export(self) -> str:
        """The key-ring string (secret): `kid:base64url,...`, primary first."""
        return ",".join(key.export() for key in self._keys.values())

    @property
    def primary(self) -> RootKey:
        return next(iter(self._keys.values()))

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def get(self, kid: str) -> RootKey:
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKeyId(kid) from None

    def with_primary(self, key: RootKey) -> "KeyRing":
        """A ring where `key` is the primary and every current key still decrypts."""
        return KeyRing([key, *self._keys.values()])

    def derive(self, purpose: Purpose) -> "PurposeKeyRing":
        return PurposeKeyRing(
            purpose, [(key.kid, derive_key(key, purpose)) for key in self._keys.values()]
        )

    def __len__(self) -> int:
        return len(self._keys)

    def __repr__(self) -> str:
        return f"KeyRing(kids={self.kids!r})"


class PurposeKeyRing:
    """The derived keys of one purpose, by root key id; the first is the primary.

    This is what a service that needs one purpose only (ingress: webhook secrets) is given,
    so it can never derive the keys of another purpose.
    """

    def __init__(self, purpose: Purpose, keys: Sequence[tuple[str, bytes]]) -> None:
        self.purpose = purpose
        self._keys = dict(_checked_entries(keys))

    @classmethod
    def parse(cls, text: str) -> "PurposeKeyRing":
        purpose_name, slash, entries = text.strip().partition("/")
        if not slash:
            raise InvalidKeyRing("a derived key ring starts with '<purpose>/'")
        try:
            purpose = Purpose(purpose_name)
        except ValueError:
            raise InvalidKeyRing(f"unknown purpose {purpose_name!r}") from None
        return cls(purpose, _parse_entries(entries))

    def export(self) -> str:
        """The derived key-ring string (secret): `<purpose>/kid:base64url,...`."""
        entries = ",".join(f"{kid}:{b64url_encode(key)}" for kid, key in self._keys.items())
        return f"{self.purpose.value}/{entries}"

    @property
    def primary_kid(self) -> str:
        return next(iter(self._keys))

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def key(self, kid: str) -> bytes:
        try:
            return self._keys[kid]
        except KeyError:
            raise UnknownKeyId(kid) from None

    def __repr__(self) -> str:
        return f"PurposeKeyRing(purpose={self.purpose.value!r}, kids={self.kids!r})"


def load_purpose_keys(text: str, purpose: Purpose) -> PurposeKeyRing:
    """Accept either a root key ring or a derived ring of `purpose`, as settings may hold."""
    if "/" not in text:
        return KeyRing.parse(text).derive(purpose)
    ring = PurposeKeyRing.parse(text)
    if ring.purpose is not purpose:
        raise InvalidKeyRing(
            f"derived key ring is for {ring.purpose.value!r}, expected {purpose.value!r}"
        )
    return ring


def _parse_entries(text: str) -> list[tuple[str, bytes]]:
    if not text.strip():
        raise InvalidKeyRing("key ring is empty")
    entries: list[tuple[str, bytes]] = []
    for position, entry in enumerate(text.split(","), start=1):
        kid, colon, encoded = entry.strip().partition(":")
        if not colon:
            raise InvalidKeyRing(f"entry {position} is not of the form kid:base64url-key")
        try:
            entries.append((kid, b64url_decode(encoded)))
        except ValueError:
            raise InvalidKeyRing(f"entry {position}: key is not unpadded base64url") from None
    return _checked_entries(entries)


def _checked_entries(entries: Iterable[tuple[str, bytes]]) -> list[tuple[str, bytes]]:
    # Errors name entry positions, never the entry: a key pasted where the id belongs
    # would otherwise end up in a log line.
    checked: list[tuple[str, bytes]] = []
    for position, (kid, material) in enumerate(entries, start=1):
        if not is_valid_kid(kid):
            raise InvalidKeyRing(f"entry {position}: key id must be {KID_RULE}")
        if len(material) != ROOT_KEY_BYTES:
            raise InvalidKeyRing(f"entry {position}: key must be {ROOT_KEY_BYTES} bytes")
        for earlier, (earlier_kid, earlier_material) in enumerate(checked, start=1):
            if kid == earlier_kid:
                raise InvalidKeyRing(f"entries {earlier} and {position} have the same key id")
            # The same key under two ids is a copy-paste slip that would defeat rotation.
            if material == earlier_material:
                raise InvalidKeyRing(f"entries {earlier} and {position} hold the same key")
        checked.append((kid, material))
    if not checked:
        raise InvalidKeyRing("a key ring needs at least one key")
    return checked
