"""Domain errors → HTTP statuses, shared by the credentials routes."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from integrations.credentials.domain.errors import (
    ConcurrentUpdate,
    CredentialsNotFound,
    CredentialsProtected,
)
from integrations.credentials.domain.ports import CredentialsAlreadyExist
from integrations.credentials.domain.rules import CredentialsRuleViolation
from integrations.credentials.entrypoints.lease_errors import lease_answers
from integrations.providers import UnknownProvider
from integrations.web import ApiError


@asynccontextmanager
async def answers() -> AsyncIterator[None]:
    try:
        # In use, lease lost, refresh failed: see lease_errors.py.
        async with lease_answers():
            yield
    except (CredentialsNotFound, UnknownProvider) as error:
        raise ApiError(404, str(error)) from None
    except CredentialsProtected as error:
        raise ApiError(403, str(error)) from None
    except CredentialsAlreadyExist:
        raise ApiError(409, "Credentials with this id already exist.") from None
    except ConcurrentUpdate as error:
        raise ApiError(409, str(error), code="concurrent_update") from None
    except CredentialsRuleViolation as error:
        raise ApiError(400, str(error), code="rule_violation") from None
