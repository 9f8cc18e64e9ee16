"""Lease and refresh errors → HTTP statuses, for every route that reads credentials for use."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from integrations.credentials.domain.leases import LeaseLost, LeaseTimeout
from integrations.credentials.domain.refresh import CredentialsRefreshFailed
from integrations.web import ApiError

# Waiting for a lease is cheap to retry; a second is about what one use of a token takes.
_RETRY_SOON = {"Retry-After": "1"}


@asynccontextmanager
async def lease_answers() -> AsyncIterator[None]:
    try:
        yield
    except LeaseTimeout as error:
        raise ApiError(409, str(error), code="credentials_in_use", headers=_RETRY_SOON) from None
    except LeaseLost as error:
        raise ApiError(409, str(error), code="lease_lost") from None
    except CredentialsRefreshFailed as error:
        if error.reauthorize:
            raise ApiError(409, str(error), code="reauthorization_required") from None
        raise ApiError(
            503, str(error), code="refresh_failed", headers={"Retry-After": "30"}
        ) from None
