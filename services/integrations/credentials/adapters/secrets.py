"""Secrets at rest: every value of a document's `secrets` sub-document is a ciphertext.

Each one is bound (AES-GCM associated data) to the collection, the document `_id` and the
field name, so a ciphertext copied into another user's record, another credential or
another field (an access token pasted over a refresh token) fails to decrypt instead of
handing the wrong secret to someone. Keeping all ciphertexts in one sub-document lets key
rotation re-encrypt any collection without knowing its layout.
"""

from collections.abc import Mapping

from integrations.crypto import Cipher
from integrations.storage import Document

SECRETS_FIELD = "secrets"


class SealedFields:
    def __init__(self, cipher: Cipher, *, namespace: str) -> None:
        self._cipher = cipher
        self._namespace = namespace

    def seal(self, doc_id: str, plaintexts: Mapping[str, str]) -> dict[str, str]:
        return {
            name: self._cipher.encrypt_text(value, associated_data=self._bound(doc_id, name))
            for name, value in plaintexts.items()
        }

    def open(self, doc: Mapping[str, object]) -> dict[str, str]:
        doc_id = str(doc["_id"])
        return {
            name: self._cipher.decrypt_text(token, associated_data=self._bound(doc_id, name))
            for name, token in _sealed(doc).items()
        }

    def rotated(self, doc: Document) -> Document | None:
        """`doc` with every secret under the primary key, or None if it already is.

        Only ciphertexts change (decrypt, encrypt anew): no plaintext leaves this method.
        """
        sealed = _sealed(doc)
        if not any(self._cipher.needs_rotation(token) for token in sealed.values()):
            return None
        doc_id = str(doc["_id"])
        reencrypted = {
            name: self._cipher.reencrypt(token, associated_data=self._bound(doc_id, name))
            for name, token in sealed.items()
        }
        return {**doc, SECRETS_FIELD: reencrypted}

    def _bound(self, doc_id: str, name: str) -> bytes:
        # `_id`s are percent-encoded (see documents.record_id), so '#' cannot occur in them.
        return f"{self._namespace}/{doc_id}#{name}".encode()


def _sealed(doc: Mapping[str, object]) -> dict[str, str]:
    value = doc.get(SECRETS_FIELD) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise ValueError(f"document {doc.get('_id')!r}: `{SECRETS_FIELD}` is not a map of tokens")
    return value
