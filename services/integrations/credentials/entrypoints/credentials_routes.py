"""User routes for credentials (SPEC RT-3..RT-6, and update): bearer JWT, every query
scoped by the token's user. Secrets go out masked (`SecretStr` serialises as asterisks)."""

from typing import Annotated

from fastapi import APIRouter, Query

from integrations.auth import CurrentUser
from integrations.credentials.context import CredentialsContext
from integrations.credentials.domain.credentials import Credentials
from integrations.credentials.domain.deletion import Deleted
from integrations.credentials.domain.metadata import CredentialsMeta, meta_of
from integrations.credentials.entrypoints.errors import answers
from integrations.credentials.entrypoints.schemas import (
    CredentialsDeletionNeedsConfirmationResponse,
    CredentialsDeletionResponse,
)
from integrations.credentials.handlers import (
    create_credentials,
    delete_credentials,
    get_credentials,
    list_credentials,
    update_credentials,
)
from integrations.web import error_responses
from integrations.web.app import API_PREFIX

Force = Annotated[
    bool, Query(description="Delete even if webhooks made with the credentials are in use.")
]


def build_router(ctx: CredentialsContext) -> APIRouter:
    # 403: system or managed credentials (RT-5, RT-6); 409: an id taken, a lost race (CS-3, CS-10).
    router = APIRouter(prefix=API_PREFIX, tags=["credentials"], responses=error_responses(403, 409))

    @router.get("/credentials", summary="The user's credentials and the system credentials")
    async def list_all_credentials(user: CurrentUser) -> list[CredentialsMeta]:
        return [meta_of(c) for c in await list_credentials(user.user_id, ctx)]

    @router.get("/{provider}/credentials", summary="The user's credentials for one provider")
    async def list_provider_credentials(provider: str, user: CurrentUser) -> list[CredentialsMeta]:
        found = await list_credentials(user.user_id, ctx, provider=provider)
        return [meta_of(c) for c in found]

    @router.get("/{provider}/credentials/{credentials_id}", summary="One credential, masked")
    async def get_one_credential(
        provider: str, credentials_id: str, user: CurrentUser
    ) -> Credentials:
        async with answers():
            return await get_credentials(user.user_id, provider, credentials_id, ctx)

    @router.post("/{provider}/credentials", status_code=201, summary="Store new credentials")
    async def create_one_credential(
        provider: str, credentials: Credentials, user: CurrentUser
    ) -> Credentials:
        # The path names the provider, whatever the body says (as in the original).
        credentials = credentials.model_copy(update={"provider": provider})
        async with answers():
            stored = await create_credentials(user.user_id, credentials, ctx)
        return stored.credentials

    @router.put("/{provider}/credentials/{credentials_id}", summary="Replace credentials")
    async def update_one_credential(
        provider: str, credentials_id: str, credentials: Credentials, user: CurrentUser
    ) -> Credentials:
        credentials = credentials.model_copy(update={"provider": provider, "id": credentials_id})
        async with answers():
            stored = await update_credentials(user.user_id, credentials, ctx)
        return stored.credentials

    @router.delete("/{provider}/credentials/{credentials_id}", summary="Delete credentials")
    async def delete_one_credential(
        provider: str, credentials_id: str, user: CurrentUser, force: Force = False
    ) -> CredentialsDeletionResponse | CredentialsDeletionNeedsConfirmationResponse:
        async with answers():
            outcome = await delete_credentials(
                user.user_id, provider, credentials_id, ctx, force=force
            )
        if isinstance(outcome, Deleted):
            return CredentialsDeletionResponse(revoked=outcome.revoked)
        return CredentialsDeletionNeedsConfirmationResponse(message=outcome.message)

    return router
