"""User routes of the oauth service (SPEC RT-1, RT-2, RT-12), under `/api/integrations`."""

from datetime import datetime

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from integrations.auth import AuthenticatedUser, CurrentUser
from integrations.oauth.domain.credentials import CredentialsMeta
from integrations.oauth.domain.errors import (
    AyrshareFailed,
    AyrshareNotConfigured,
    ConfirmationTimeout,
    ExchangeFailed,
    InvalidState,
    ManagedCredentialsUnavailable,
    OAuthNotAvailable,
    OAuthNotConfigured,
    OAuthServiceError,
)
from integrations.oauth.domain.scopes import parse_requested
from integrations.oauth.handlers import (
    Collaborators,
    ayrshare_sso_url,
    complete_login,
    start_login,
)
from integrations.web import ApiError, ErrorBody
from integrations.web.app import API_PREFIX

# The bearer claim that names the API key a login was started with, when the platform's
# gateway issued the token for one (SPEC CS-8: "initiating API key id").
API_KEY_CLAIM = "api_key_id"

# status, code
_FAILURES: dict[type[OAuthServiceError], tuple[int, str]] = {
    OAuthNotAvailable: (404, "oauth_not_supported"),
    OAuthNotConfigured: (501, "not_configured"),
    InvalidState: (400, "invalid_state"),
    ExchangeFailed: (400, "exchange_failed"),
    ConfirmationTimeout: (504, "confirmation_timeout"),
    AyrshareNotConfigured: (500, "not_configured"),
    AyrshareFailed: (502, "bad_gateway"),
    ManagedCredentialsUnavailable: (503, "credentials_unavailable"),
}


class LoginResponse(BaseModel):
    login_url: str = Field(description="The provider's authorization page for the user.")
    state_token: str = Field(description="Anti-CSRF nonce; the callback must bring it back.")


class CallbackRequest(BaseModel):
    code: str = Field(min_length=1, max_length=4096, description="From the provider redirect.")
    state_token: str = Field(min_length=1, max_length=256, description="From the login.")


class AyrshareSSOResponse(BaseModel):
    sso_url: str
    expires_at: datetime


def _errors(*statuses: int) -> dict[int | str, dict[str, object]]:
    return {status: {"model": ErrorBody} for status in statuses}


def build_router(deps: Collaborators) -> APIRouter:
    router = APIRouter(prefix=API_PREFIX, tags=["oauth"])

    @router.get(
        "/{provider}/login",
        summary="Initiate an OAuth flow",
        responses=_errors(404, 501),
    )
    async def login(
        provider: str,
        user: CurrentUser,
        scopes: str = Query("", description="Comma-separated authorization scopes."),
    ) -> LoginResponse:
        try:
            started = await start_login(
                deps,
                user_id=user.user_id,
                provider=provider,
                scopes=parse_requested(scopes),
                api_key_id=_api_key_id(user),
            )
        except OAuthServiceError as error:
            raise _api_error(error) from None
        return LoginResponse(login_url=started.login_url, state_token=started.state_token)

    @router.post(
        "/{provider}/callback",
        summary="Exchange an OAuth code for tokens",
        responses=_errors(404, 501, 504),
    )
    async def callback(provider: str, body: CallbackRequest, user: CurrentUser) -> CredentialsMeta:
        try:
            return await complete_login(
                deps,
                user_id=user.user_id,
                provider=provider,
                code=body.code,
                state_token=body.state_token,
            )
        except OAuthServiceError as error:
            raise _api_error(error) from None

    @router.get(
        "/ayrshare/sso_url",
        summary="A single sign-on URL for Ayrshare social accounts",
        responses=_errors(502),
    )
    async def ayrshare(user: CurrentUser) -> AyrshareSSOResponse:
        try:
            sso = await ayrshare_sso_url(deps, user_id=user.user_id)
        except OAuthServiceError as error:
            raise _api_error(error) from None
        return AyrshareSSOResponse(sso_url=sso.sso_url, expires_at=sso.expires_at)

    return router


def _api_error(error: OAuthServiceError) -> ApiError:
    status, code = _FAILURES.get(type(error), (500, "internal_error"))
    headers = {"Retry-After": "5"} if status == 503 else None
    return ApiError(status, str(error), code=code, headers=headers)


def _api_key_id(user: AuthenticatedUser) -> str | None:
    value = user.claims.get(API_KEY_CLAIM)
    return value if isinstance(value, str) and value else None
