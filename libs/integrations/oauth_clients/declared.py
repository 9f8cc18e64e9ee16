"""The OAuth 2.0 authorization-code client every provider starts from: all of it is driven by
the provider's `OAuthConfig` declaration; a provider module overrides only its quirks (the
methods under "Provider quirks" below).

Used by the oauth service (`authorize_url`, `exchange_code`) and by the credentials service
(`refresh`, `revoke`, `needs_refresh`).
"""

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from integrations.oauth_clients.errors import NotRefreshable, ProviderRefused, ProviderUnavailable
from integrations.oauth_clients.session import AsyncOAuth2Session, TokenAnswer, TokenEndpointAnswer
from integrations.providers import OAuthClient, OAuthConfig, OAuthHandler, OAuthTokens

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class MalformedAnswer(Exception):
    """A 2xx token answer we cannot use (no access token, a non-numeric expiry)."""


class DeclaredOAuthHandler(OAuthHandler):
    # Where a profile usually keeps the account name, most telling first.
    USERNAME_FIELDS: ClassVar[tuple[str, ...]] = (
        "username",
        "preferred_username",
        "login",
        "email",
        "name",
    )

    def __init__(
        self,
        *,
        config: OAuthConfig,
        client: OAuthClient,
        http: httpx.AsyncClient,
        clock: Clock | None = None,
    ) -> None:
        super().__init__(config=config, client=client, http=http)
        self._clock = clock or time.time
        self._session()  # refuses an impossible declaration now, not at the first callback

    # Provider quirks: what a provider module may override.

    @property
    def uses_pkce(self) -> bool:
        return self.config.pkce

    def request_headers(self) -> dict[str, str]:
        """Headers for every call to the provider (token, revocation and user endpoints)."""
        return {}

    def authorize_params(self) -> dict[str, str]:
        return dict(self.config.extra_authorize_params)

    def granted_scopes(self, reported: object, requested: Sequence[str]) -> tuple[str, ...]:
        # RFC 6749 §5.1: a token answer without `scope` grants exactly what was requested.
        if reported is None:
            return tuple(requested)
        if isinstance(reported, str):
            return self.config.parse_granted_scopes(reported)
        if isinstance(reported, list) and all(isinstance(scope, str) for scope in reported):
            # Scope tokens hold no whitespace (RFC 6749 §3.3): ["read write"] is two scopes.
            return self.config.parse_granted_scopes([p for s in reported for p in s.split()])
        raise MalformedAnswer("the granted scopes are neither a string nor a list of strings")

    def account_fields(self, answer: Mapping[str, Any]) -> dict[str, Any]:
        """`title`, `username` or `metadata` the token answer itself tells (Notion's workspace)."""
        return {}

    def username_from(self, profile: Mapping[str, Any]) -> str | None:
        for field in self.USERNAME_FIELDS:
            value = profile.get(field)
            if isinstance(value, str) and value:
                return value
        return None

    async def fetch_username(self, access_token: str) -> str | None:
        """The account name from the provider's user endpoint; None when it has none."""
        if self.config.user_info_url is None:
            return None
        response = await self.http.get(
            self.config.user_info_url,
            headers={
                "Authorization": f"Bearer {access_token}",
                "Accept": "application/json",
                **self.request_headers(),
            },
        )
        response.raise_for_status()
        profile = response.json()
        return self.username_from(profile) if isinstance(profile, dict) else None

    async def revoke(self, tokens: OAuthTokens) -> bool | None:
        """RFC 7009 at the declared endpoint, with the declared client authentication."""
        if self.config.revoke_url is None:
            return None
        revoked = True
        for token, hint in _revocable(tokens):
            with self._calling("token revocation"):
                response: httpx.Response = await self._session().revoke_token(
                    self.config.revoke_url, token=token, token_type_hint=hint
                )
            revoked = revoked and response.is_success
        return revoked

    # The flow.

    def authorize_url(
        self, *, scopes: Sequence[str], state: str, code_challenge: str | None
    ) -> str:
        params = self.authorize_params()
        if self.uses_pkce:
            if not code_challenge:
                raise ValueError(f"{self.provider} needs a PKCE code challenge")
            params |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
        scope = self.config.join_scopes(self.config.effective_scopes(scopes))
        url, _ = self._session().create_authorization_url(
            self.config.authorize_url, state=state, scope=scope or None, **params
        )
        return str(url)

    async def exchange_code(
        self, *, code: str, scopes: Sequence[str], code_verifier: str | None
    ) -> OAuthTokens:
        requested = self.config.effective_scopes(scopes)
        # Only with PKCE: a verifier for an authorization without a challenge is refused by
        # strict servers (RFC 9700 §4.8).
        pkce = {"code_verifier": code_verifier} if self.uses_pkce and code_verifier else {}
        with self._calling("code exchange"):
            answer: TokenAnswer = await self._session().fetch_token(
                self.config.token_url, grant_type="authorization_code", code=code, **pkce
            )
            tokens = self.tokens_from(answer, requested=requested)
        if tokens.username is None:
            tokens = tokens.model_copy(update={"username": await self._username_or_none(tokens)})
        return tokens

    async def refresh(self, tokens: OAuthTokens) -> OAuthTokens:
        if tokens.refresh_token is None:
            if tokens.access_token_expires_at is None:
                return tokens  # it never expires: there is nothing to refresh
            raise NotRefreshable(self.provider)
        with self._calling("token refresh"):
            answer: TokenAnswer = await self._session().refresh_token(
                self.config.token_url, refresh_token=tokens.refresh_token.get_secret_value()
            )
            return self.tokens_from(answer, requested=tokens.scopes, previous=tokens)

    def tokens_from(
        self,
        answer: Mapping[str, Any],
        *,
        requested: Sequence[str],
        previous: OAuthTokens | None = None,
    ) -> OAuthTokens:
        now = int(self._clock())
        access_token = answer.get("access_token")
        if not isinstance(access_token, str) or not access_token:
            raise MalformedAnswer("the answer has no access token")
        refresh_token = answer.get("refresh_token")
        fields: dict[str, Any] = {
            "access_token": SecretStr(access_token),
            "access_token_expires_at": _expiry(answer, "expires_in", now),
            "scopes": self.granted_scopes(answer.get("scope"), requested),
        }
        if isinstance(refresh_token, str) and refresh_token:
            fields["refresh_token"] = SecretStr(refresh_token)
            fields["refresh_token_expires_at"] = _expiry(answer, "refresh_token_expires_in", now)
        if previous is None:
            return OAuthTokens(**fields, **self.account_fields(answer))
        # A refresh keeps what the answer does not renew: a refresh token that is not rotated
        # (SPEC CM-3), and the account it belongs to.
        return previous.model_copy(update=fields)

    def _session(self) -> AsyncOAuth2Session:
        return AsyncOAuth2Session(
            self.http,
            client_id=self.client.client_id,
            client_secret=self.client.client_secret.get_secret_value(),
            auth_method=self.config.client_auth_method,
            redirect_uri=self.client.redirect_uri,
            headers=self.request_headers(),
            json_token_requests=self.config.token_request_format == "json",  # noqa: S105
        )

    @contextmanager
    def _calling(self, action: str) -> Iterator[None]:
        """Provider answers and transport failures as `OAuthFlowError`s safe to show."""
        try:
            yield
        except TokenEndpointAnswer as answer:
            if answer.error is not None:
                raise ProviderRefused(
                    self.provider, action, answer.error, answer.description
                ) from None
            if 400 <= answer.status < 500:
                raise ProviderRefused(self.provider, action, f"HTTP {answer.status}") from None
            raise ProviderUnavailable(self.provider, action, f"HTTP {answer.status}") from None
        except MalformedAnswer as error:
            raise ProviderUnavailable(self.provider, action, str(error)) from None
        except httpx.HTTPError as error:
            # The type only: httpx's message names the request, and so may quote a token.
            raise ProviderUnavailable(self.provider, action, type(error).__name__) from None

    async def _username_or_none(self, tokens: OAuthTokens) -> str | None:
        # The credential is usable without a name: a failing user endpoint must not cost the
        # user the connection they just granted.
        try:
            return await self.fetch_username(tokens.access_token.get_secret_value())
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as error:
            log.warning(
                "could not read the account name",
                extra={"provider": self.provider, "error": type(error).__name__},
            )
            return None


def _expiry(answer: Mapping[str, Any], field: str, now: int) -> int | None:
    seconds = answer.get(field)
    if seconds is None:
        return None
    try:
        return now + int(seconds)  # some providers send the number as a string
    except (TypeError, ValueError):
        raise MalformedAnswer(f"`{field}` is not a number of seconds") from None


def _revocable(tokens: OAuthTokens) -> list[tuple[str, str]]:
    # The refresh token first: revoking it ends the whole grant at RFC 7009 §2.1 servers,
    # so the access token after it cannot outlive a partial failure.
    pairs = [(tokens.access_token.get_secret_value(), "access_token")]
    if tokens.refresh_token is not None:
        pairs.insert(0, (tokens.refresh_token.get_secret_value(), "refresh_token"))
    return pairs
