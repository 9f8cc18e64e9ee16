"""Internal routes for other services (the executor): service token, secrets in clear.

Not exposed by the proxy. `Cache-Control: no-store` keeps the answers out of any cache.
"""

from typing import Annotated, Final

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from integrations.credentials.context import CredentialsContext
from integrations.credentials.entrypoints.errors import answers
from integrations.credentials.entrypoints.internal import internal_router
from integrations.credentials.entrypoints.schemas import RevealedCredentialsBatch, revealed
from integrations.credentials.handlers import reveal_credentials, reveal_many
from integrations.web import ApiError

MAX_IDS: Final = 100
_NO_STORE: Final = {"Cache-Control": "no-store"}

Ids = Annotated[str, Query(max_length=16_384, description="Comma-separated credential ids.")]


def build_router(ctx: CredentialsContext) -> APIRouter:
    # 409: in use by another holder, or its refresh needs the user to sign in again.
    router = internal_router("/internal/users/{user_id}/credentials", 409)

    @router.get("/{credentials_id}", summary="One credential with its secrets")
    async def reveal_one(user_id: str, credentials_id: str) -> JSONResponse:
        async with answers():
            credentials = await reveal_credentials(user_id, credentials_id, ctx)
        return JSONResponse(revealed(credentials), headers=_NO_STORE)

    @router.get("", summary="Several credentials with their secrets (SPEC CM-5)")
    async def reveal_several(user_id: str, ids: Ids) -> JSONResponse:
        wanted = list(dict.fromkeys(i.strip() for i in ids.split(",") if i.strip()))
        if len(wanted) > MAX_IDS:
            raise ApiError(422, f"At most {MAX_IDS} ids at once.")
        async with answers():  # a refresh on read may fail (SPEC CM-1)
            found = await reveal_many(user_id, wanted, ctx)
        batch = RevealedCredentialsBatch(
            credentials=[revealed(c) for c in found],
            missing=[i for i in wanted if i not in {c.id for c in found}],
        )
        return JSONResponse(batch.model_dump(mode="json"), headers=_NO_STORE)

    return router
