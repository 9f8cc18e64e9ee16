"""What every `/internal` router of the credentials service shares."""

from fastapi import APIRouter, Depends

from integrations.auth import require_service_token
from integrations.web import error_responses


def internal_router(prefix: str, *statuses: int) -> APIRouter:
    """Service token only: 401 without it, 403 with a wrong one; `statuses` are the other
    error statuses the router's routes answer, for the OpenAPI document."""
    return APIRouter(
        prefix=prefix,
        tags=["internal"],
        dependencies=[Depends(require_service_token)],
        responses=error_responses(403, *statuses),
    )
