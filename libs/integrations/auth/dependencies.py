from typing import Annotated

from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.dependencies.models import Dependant
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from integrations.auth.authenticator import Authenticator
from integrations.auth.errors import (
    AuthenticationError,
    AuthError,
    ForbiddenError,
    KeysUnavailable,
)
from integrations.auth.types import AuthenticatedUser

_STATE_ATTRIBUTE = "integrations_authenticator"

# auto_error=False: these only document the schemes in OpenAPI; the checks below decide
# the status and reason themselves.
_user_scheme = HTTPBearer(scheme_name="UserJWT", bearerFormat="JWT", auto_error=False)
_service_scheme = HTTPBearer(scheme_name="ServiceToken", auto_error=False)

BearerCredentials = HTTPAuthorizationCredentials | None


def install_authenticator(app: FastAPI, authenticator: Authenticator) -> None:
    setattr(app.state, _STATE_ATTRIBUTE, authenticator)


async def require_user(
    request: Request, credentials: Annotated[BearerCredentials, Depends(_user_scheme)]
) -> AuthenticatedUser:
    try:
        token = _bearer_token(request, credentials)
        return await _authenticator(request).authenticate_user(token)
    except AuthError as exc:
        raise to_http_exception(exc) from None


async def require_service_token(
    request: Request, credentials: Annotated[BearerCredentials, Depends(_service_scheme)]
) -> None:
    try:
        token = _bearer_token(request, credentials)
        _authenticator(request).authenticate_service(token)
    except AuthError as exc:
        raise to_http_exception(exc) from None


CurrentUser = Annotated[AuthenticatedUser, Depends(require_user)]


async def authentication_refusal(request: Request) -> HTTPException | None:
    """What the route's own `require_user` / `require_service_token` would answer, or None
    when they would let the request in. For the error handlers: FastAPI parses a JSON body
    before it runs any dependency, and authentication must still come first."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if not isinstance(dependant, Dependant):
        return None
    checks = {dependency.call for dependency in _dependencies(dependant)}
    try:
        if require_service_token in checks:
            await require_service_token(request, await _service_scheme(request))
        if require_user in checks:
            await require_user(request, await _user_scheme(request))
    except HTTPException as refused:
        return refused
    return None


def _dependencies(dependant: Dependant) -> list[Dependant]:
    found = []
    for dependency in dependant.dependencies:
        found.append(dependency)
        found.extend(_dependencies(dependency))
    return found


def to_http_exception(exc: AuthError) -> HTTPException:
    if isinstance(exc, AuthenticationError):
        return HTTPException(
            status_code=401,
            detail=exc.reason,
            headers={"WWW-Authenticate": _challenge(exc)},
        )
    if isinstance(exc, ForbiddenError):
        return HTTPException(status_code=403, detail=exc.reason)
    if isinstance(exc, KeysUnavailable):
        return HTTPException(status_code=503, detail=exc.reason, headers={"Retry-After": "5"})
    raise TypeError(f"unmapped auth error {type(exc).__name__}")


def _challenge(exc: AuthenticationError) -> str:
    # RFC 6750 §3: no error code when the request carried no credentials at all.
    if exc.reason == "missing_token":
        return "Bearer"
    if exc.reason == "malformed_header":
        return 'Bearer error="invalid_request"'
    return f'Bearer error="invalid_token", error_description="{exc.reason}"'


def _bearer_token(request: Request, credentials: BearerCredentials) -> str:
    if credentials is not None:
        return credentials.credentials
    if "authorization" in request.headers:
        raise AuthenticationError("malformed_header")
    raise AuthenticationError("missing_token")


def _authenticator(request: Request) -> Authenticator:
    authenticator = getattr(request.app.state, _STATE_ATTRIBUTE, None)
    if not isinstance(authenticator, Authenticator):
        # A wiring bug, not the client's fault: let it surface as a 500.
        raise RuntimeError("no Authenticator installed; call install_authenticator(app, ...)")
    return authenticator
