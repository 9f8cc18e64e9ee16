"""The RFC 6749 §6 refresh grant, from a provider's declaration alone.

Used for providers whose declaration has no `OAuthHandler` class attached here: what a
standard token endpoint needs (URL, client authentication, body format, scope separators)
is data on `OAuthConfig`, so no code per provider is needed to refresh.
"""

import time
from collections.abc import Callable
from typing import Any, Final

import httpx

from integrations.credentials.domain.refresh import RefreshRejected
from integrations.providers import OAuthClient, OAuthConfig, OAuthTokens

# RFC 6749 §5.2: the grant (refresh token) is invalid, expired or revoked: reconnect.
_REAUTHORIZE_ERRORS: Final = frozenset({"invalid_grant", "unauthorized_client"})


async def refresh_grant(
    config: OAuthConfig,
    client: OAuthClient,
    http: httpx.AsyncClient,
    refresh_token: str,
    *,
    timeout_s: float,
    clock: Callable[[], float] = time.time,
) -> OAuthTokens:
    """Fresh tokens; `RefreshRejected` (with a reason fit for logs) on any failure.

    Raises httpx errors for transport failures: the caller words those.
    """
    form: dict[str, str] = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    secret = client.client_secret.get_secret_value()
    as_json = config.token_request_format == "json"  # noqa: S105 - a format, not a secret
    body: dict[str, Any] = {"json": form} if as_json else {"data": form}
    if config.client_auth_method == "client_secret_basic":
        body["auth"] = httpx.BasicAuth(client.client_id, secret)
    else:
        form |= {"client_id": client.client_id, "client_secret": secret}
    asked_at = clock()
    response = await http.post(
        config.token_url,
        headers={"Accept": "application/json"},
        timeout=timeout_s,
        **body,
    )
    payload = _json(response)
    error = payload.get("error")
    if response.is_error or error is not None or "access_token" not in payload:
        code = str(error) if isinstance(error, str) else None
        raise RefreshRejected(
            f"token endpoint answered {response.status_code}" + (f" ({code})" if code else ""),
            reauthorize=code in _REAUTHORIZE_ERRORS,
        )
    return _tokens(config, payload, asked_at)


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        payload = response.json()
    except ValueError:
        return {}
    return payload if isinstance(payload, dict) else {}


def _tokens(config: OAuthConfig, payload: dict[str, Any], asked_at: float) -> OAuthTokens:
    # Expiries count from when we asked, not when we read the answer: never too late.
    expires_in = payload.get("expires_in")
    refresh_expires_in = payload.get("refresh_token_expires_in")
    try:
        return OAuthTokens(
            access_token=payload["access_token"],
            access_token_expires_at=_at(asked_at, expires_in),
            refresh_token=payload.get("refresh_token") or None,
            refresh_token_expires_at=_at(asked_at, refresh_expires_in),
            scopes=config.parse_granted_scopes(payload.get("scope")),
        )
    except (TypeError, ValueError):
        # The validation error would quote the payload, tokens included: only say what.
        raise RefreshRejected("token endpoint answered an unreadable token response") from None


def _at(asked_at: float, seconds: object) -> int | None:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float | str):
        return None
    return int(asked_at + float(seconds))
