"""OAuth states in this service's own collection (SPEC CS-8, CS-9). One document per state::

    _id                   SHA-256 of the token (the token itself is never stored)
    user_id, provider     who may use it, for which provider
    scopes, code_verifier, callback_url, initiated_by_api_key_id
    metadata              JSON text: caller-chosen keys may hold '.' or '$'
    created_at, expires_at, version

No TTL index: expiry is checked by the handler on every use, and expired states are purged
in code (`purge_expired`), because the embedded store and the test server have no TTL.
"""

import json
from typing import Any, Final

from integrations.oauth.domain.states import OAuthState, hash_token
from integrations.storage import VERSION_FIELD, Document, DocumentCollection, IndexSpec

COLLECTION: Final = "oauth_states"
INDEXES: Final = (IndexSpec("by_expiry", (("expires_at", 1),)),)


class DocumentStateRepository:
    def __init__(self, collection: DocumentCollection) -> None:
        self._states = collection

    async def ensure_indexes(self) -> None:
        await self._states.ensure_indexes(INDEXES)

    async def add(self, state: OAuthState) -> None:
        await self._states.insert(_to_document(state))

    async def take(self, token: str, *, user_id: str, provider: str) -> OAuthState | None:
        doc = await self._states.get(hash_token(token))
        if doc is None:
            return None
        state = _from_document(doc)
        if not state.accepts(token, user_id=user_id, provider=provider):
            return None
        # Single use: of concurrent callbacks holding this state, only one deletes this
        # version; the others find it gone or changed and get nothing.
        if not await self._states.delete(doc["_id"], expected_version=doc[VERSION_FIELD]):
            return None
        return state

    async def purge_expired(self, now: float) -> int:
        return await self._states.delete_many({"expires_at": {"$lt": now}})


def _to_document(state: OAuthState) -> Document:
    fields = state.model_dump(mode="json", exclude={"token_hash", "code_verifier", "metadata"})
    return {
        "_id": state.token_hash,
        **fields,
        "code_verifier": state.code_verifier.get_secret_value(),
        "metadata": json.dumps(state.metadata),
    }


def _from_document(doc: dict[str, Any]) -> OAuthState:
    fields = {k: v for k, v in doc.items() if k not in ("_id", VERSION_FIELD)}
    return OAuthState.model_validate(
        {**fields, "token_hash": doc["_id"], "metadata": json.loads(doc["metadata"])}
    )
