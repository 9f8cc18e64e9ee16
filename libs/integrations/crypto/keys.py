import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum

from integrations.crypto.encoding import b64url_encode
from integrations.crypto.errors import InvalidKeyRing

ROOT_KEY_BYTES = 32

# Key ids travel inside tokens and ring strings, so they must not contain the separators
# of either format ('.', ':', ',', '/').
_KID = re.compile(r"[A-Za-z0-9_-]{1,64}")
KID_RULE = "1-64 characters of A-Z a-z 0-9 _ -"


class Purpose(StrEnum):
    """What a derived key protects; a ciphertext of one purpose never opens as another."""

    CREDENTIALS = "credentials"
    WEBHOOK_SECRETS = "webhook-secrets"
    TRANSPORT = "transport"


def is_valid_kid(kid: str) -> bool:
    return _KID.fullmatch(kid) is not None


# eq=False: compared by identity, since equality over key bytes would not be constant-time.
@dataclass(frozen=True, eq=False)
class RootKey:
    """A 32-byte root key and its id. The repr shows the id only."""

    kid: str
    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        # The id is not echoed: a value this wrong may be a secret pasted in the wrong place.
        if not is_valid_kid(self.kid):
            raise InvalidKeyRing(f"a key id must be {KID_RULE}")
        if len(self.material) != ROOT_KEY_BYTES:
            raise InvalidKeyRing(f"a root key must be {ROOT_KEY_BYTES} bytes")

    def export(self) -> str:
        """The `kid:base64url` entry of a key-ring string. This is secret."""
        return f"{self.kid}:{b64url_encode(self.material)}"


def generate_root_key(kid: str | None = None) -> RootKey:
    # Date first so operators can tell which key is newer at a glance; the random suffix
    # keeps two keys made on the same day apart.
    kid = kid or f"{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"
    return RootKey(kid, secrets.token_bytes(ROOT_KEY_BYTES))
