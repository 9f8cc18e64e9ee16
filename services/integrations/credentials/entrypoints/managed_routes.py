"""SPEC CS-7 over HTTP for other services (oauth stores the Ayrshare profile key here).

Service token only; `Cache-Control: no-store` keeps the secret out of any cache.
"""

from typing import Annotated, Final

from fastapi import APIRouter, Path, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, SecretStr

from integrations.credentials.context import CredentialsContext
from integrations.credentials.entrypoints.internal import internal_router
from integrations.web import ApiError

_NO_STORE: Final = {"Cache-Control": "no-store"}

Name = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


class ManagedSecret(BaseModel):
    model_config = {"extra": "forbid"}

    secret: SecretStr = Field(min_length=1, max_length=4096, description="The managed secret.")


def build_router(ctx: CredentialsContext) -> APIRouter:
    router = internal_router("/internal/users/{user_id}/managed")

    @router.get("/{name}", summary="A managed secret of the user")
    async def get_managed(user_id: str, name: Name) -> JSONResponse:
        secret = await ctx.managed.get(user_id, name)
        if secret is None:
            raise ApiError(404, "No such managed credential.")
        return JSONResponse({"secret": secret}, headers=_NO_STORE)

    @router.put("/{name}", status_code=204, summary="Create or replace a managed secret")
    async def put_managed(user_id: str, name: Name, body: ManagedSecret) -> Response:
        await ctx.managed.put(user_id, name, body.secret.get_secret_value())
        return Response(status_code=204, headers=_NO_STORE)

    return router
