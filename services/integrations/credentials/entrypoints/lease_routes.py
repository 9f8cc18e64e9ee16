"""Internal lease routes (SPEC CM-2, CM-6) for other services (the executor): acquire a
credential for exclusive use, keep the lease alive, give it back. Service token only.

    POST   /internal/users/{user}/credentials/{id}/leases                      acquire
    POST   /internal/users/{user}/credentials/{id}/leases/{lease_id}/heartbeat extend
    DELETE /internal/users/{user}/credentials/{id}/leases/{lease_id}           release

Acquire answers the credential with its secrets in clear, the lease id and its expiry
(epoch seconds); 404 for an unknown credential, 409 `credentials_in_use` when it stays
taken for longer than `wait_s`. A holder that stops heartbeating loses the lease at
`expires_at` (heartbeat then answers 409 `lease_lost`). Any replica serves any lease.
"""

from typing import Annotated, Any, Final

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from integrations.credentials.entrypoints.errors import answers
from integrations.credentials.entrypoints.internal import internal_router
from integrations.credentials.entrypoints.schemas import revealed
from integrations.credentials.leasing import CredentialLeases

_NO_STORE: Final = {"Cache-Control": "no-store"}


class AcquireRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ttl_s: float | None = Field(
        default=None, gt=0, le=3600, description="Lease TTL; heartbeat before it runs out."
    )
    wait_s: float | None = Field(
        default=None, ge=0, le=300, description="How long to wait while others hold it."
    )


class HeartbeatRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ttl_s: float | None = Field(default=None, gt=0, le=3600, description="New TTL from now.")


class LeaseInfo(BaseModel):
    lease_id: str
    expires_at: float = Field(description="Epoch seconds; the lease lapses then.")


class LeaseGrant(LeaseInfo):
    credentials: dict[str, Any] = Field(description="The credential, secrets in clear.")


class ReleaseResult(BaseModel):
    released: bool = Field(description="False if the lease was no longer held (idempotent).")


def build_router(leases: CredentialLeases) -> APIRouter:
    # 409: `credentials_in_use`, `lease_lost`, `reauthorization_required`.
    router = internal_router("/internal/users/{user_id}/credentials/{credentials_id}/leases", 409)

    @router.post("", summary="Acquire a credential for exclusive use", response_model=LeaseGrant)
    async def acquire(
        user_id: str,
        credentials_id: str,
        request: Annotated[AcquireRequest | None, Body()] = None,
    ) -> JSONResponse:
        asked = request or AcquireRequest()
        async with answers():
            credentials, lease = await leases.acquire(
                user_id, credentials_id, ttl_s=asked.ttl_s, wait_s=asked.wait_s
            )
        grant = LeaseGrant(
            lease_id=lease.lease_id, expires_at=lease.expires_at, credentials=revealed(credentials)
        )
        return JSONResponse(grant.model_dump(mode="json"), headers=_NO_STORE)

    @router.post("/{lease_id}/heartbeat", summary="Extend a held lease")
    async def heartbeat(
        user_id: str,
        credentials_id: str,
        lease_id: str,
        request: Annotated[HeartbeatRequest | None, Body()] = None,
    ) -> LeaseInfo:
        ttl_s = (request or HeartbeatRequest()).ttl_s
        async with answers():
            lease = await leases.heartbeat(user_id, credentials_id, lease_id, ttl_s=ttl_s)
        return LeaseInfo(lease_id=lease.lease_id, expires_at=lease.expires_at)

    @router.delete("/{lease_id}", summary="Release a lease")
    async def release(user_id: str, credentials_id: str, lease_id: str) -> ReleaseResult:
        return ReleaseResult(released=await leases.release(user_id, credentials_id, lease_id))

    return router
