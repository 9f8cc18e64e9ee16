"""Request authentication for the FastAPI services.

User routes take a bearer JWT (`sub` = user id): HS256 with a shared secret, or RS256/ES256
with keys from the issuer's JWKS. `/internal` routes take a shared service token, also as
`Authorization: Bearer <token>` (missing → 401, wrong → 403).

Wiring: routers stay module-level and only name the dependencies; the service's lifespan,
which owns the httpx client the JWKS is fetched with, builds an `Authenticator` from its
`AuthConfig` and installs it on the app::

    @router.get("/credentials")
    async def list_credentials(user: CurrentUser) -> ...: ...

    @internal.get("/internal/credentials/{id}", dependencies=[Depends(require_service_token)])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient() as client:
            install_authenticator(app, build_authenticator(settings.auth_config(), client))
            yield

A dependency used on an app without an installed `Authenticator` fails with a 500 (a wiring
bug). Tests install one around a fake `TokenVerifier`, or use `issue_dev_token`.
Failures answer 401 + `WWW-Authenticate: Bearer ...`, 403, or 503 when the JWKS is
unreachable; the body names a short reason (`expired_token`, ...) and nothing else.
"""

from integrations.auth.authenticator import Authenticator, build_authenticator
from integrations.auth.config import Algorithm, AuthConfig
from integrations.auth.dependencies import (
    CurrentUser,
    authentication_refusal,
    install_authenticator,
    require_service_token,
    require_user,
    to_http_exception,
)
from integrations.auth.dev_tokens import issue_dev_token
from integrations.auth.errors import (
    AuthenticationError,
    AuthenticationReason,
    AuthError,
    ForbiddenError,
    KeysUnavailable,
)
from integrations.auth.jwks import JWKSKeySource
from integrations.auth.keys import StaticKeySource
from integrations.auth.types import AuthenticatedUser, KeySource, TokenVerifier
from integrations.auth.verifier import JWTVerifier, build_verifier

__all__ = [
    "Algorithm",
    "AuthConfig",
    "AuthError",
    "AuthenticatedUser",
    "AuthenticationError",
    "AuthenticationReason",
    "Authenticator",
    "CurrentUser",
    "ForbiddenError",
    "JWKSKeySource",
    "JWTVerifier",
    "KeySource",
    "KeysUnavailable",
    "StaticKeySource",
    "TokenVerifier",
    "authentication_refusal",
    "build_authenticator",
    "build_verifier",
    "install_authenticator",
    "issue_dev_token",
    "require_service_token",
    "require_user",
    "to_http_exception",
]
