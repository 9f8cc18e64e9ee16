import hmac

import httpx
from pydantic import SecretStr

from integrations.auth.config import AuthConfig
from integrations.auth.errors import ForbiddenError
from integrations.auth.types import AuthenticatedUser, TokenVerifier
from integrations.auth.verifier import build_verifier


class Authenticator:
    """What the dependencies check requests against; one per app, on `app.state`."""

    def __init__(self, verifier: TokenVerifier, service_token: SecretStr | None = None) -> None:
        self._verifier = verifier
        self._service_token = (
            service_token.get_secret_value().encode("utf-8") if service_token else None
        )

    async def authenticate_user(self, token: str) -> AuthenticatedUser:
        return await self._verifier.verify(token)

    def authenticate_service(self, token: str) -> None:
        # No token configured means no caller can be right, not that every caller is.
        expected = self._service_token or b""
        # Bytes, not str: compare_digest refuses non-ASCII str, which a client controls.
        if not expected or not hmac.compare_digest(token.encode("utf-8"), expected):
            raise ForbiddenError("invalid_service_token")

    def __repr__(self) -> str:
        return f"Authenticator(verifier={self._verifier!r})"


def build_authenticator(
    config: AuthConfig, http_client: httpx.AsyncClient | None = None
) -> Authenticator:
    """From a service's config; `http_client` is needed in JWKS mode only."""
    return Authenticator(build_verifier(config, http_client), config.service_token)
