"""OAuth 2.0: a provider's declaration (data) and the handler interface (code, in the oauth
service).

Most of what differs between providers is data on `OAuthConfig`: URLs, how scopes are joined
and reported, PKCE, how the client authenticates. A handler implementation only has to add
what cannot be said as data (e.g. GitHub's revoke call, Notion's workspace metadata).
"""

import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, ClassVar, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from integrations.providers.errors import ProviderError, ProviderNotConfigured

ClientAuthMethod = Literal["client_secret_post", "client_secret_basic"]
"""RFC 6749 §2.3.1: client id/secret in the token request body, or as HTTP Basic auth."""

DefaultScopesMode = Literal["if_none_requested", "always"]
"""`if_none_requested`: default scopes stand in for an empty request (SPEC RT-2).
`always`: they are added to every request (the platform needs them, e.g. Google's email
scope for the username, Twitter's `offline.access` for a refresh token)."""

REFRESH_MARGIN_SECONDS = 300
"""SPEC CM-1: an access token that expires within 5 minutes is refreshed before use."""


class OAuthClient(BaseModel):
    """This platform's registration at one provider."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    client_id: str
    client_secret: SecretStr
    redirect_uri: str


@dataclass(frozen=True, kw_only=True, slots=True)
class OAuthConfig:
    """A provider's OAuth 2.0 declaration; the env var names say where this deployment keeps
    its client id and secret (SPEC REG-1, CM-7)."""

    authorize_url: str
    token_url: str
    client_id_env: str
    client_secret_env: str
    revoke_url: str | None = None  # None: the provider cannot revoke tokens
    user_info_url: str | None = None
    scope_separator: str = " "
    # Some providers report granted scopes differently from how they take them (GitHub takes
    # spaces and answers with commas, Linear the other way round).
    granted_scope_separator: str | None = None
    pkce: bool = False
    default_scopes: tuple[str, ...] = ()
    default_scopes_mode: DefaultScopesMode = "if_none_requested"
    client_auth_method: ClientAuthMethod = "client_secret_post"
    token_request_format: Literal["form", "json"] = "form"  # noqa: S105 - not a secret
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.scope_separator:
            raise ValueError("scope_separator must not be empty")
        if not (self.client_id_env and self.client_secret_env):
            raise ValueError("an OAuth provider needs the env var names of its client id/secret")
        # Declarations are shared by every thread of every service: no one may mutate them.
        object.__setattr__(
            self, "extra_authorize_params", MappingProxyType(dict(self.extra_authorize_params))
        )

    def effective_scopes(self, requested: Sequence[str]) -> tuple[str, ...]:
        """The scopes to ask for: the request plus the defaults as the mode says, in order,
        without duplicates."""
        if self.default_scopes_mode == "always" or not requested:
            requested = [*requested, *self.default_scopes]
        return tuple(dict.fromkeys(scope for scope in requested if scope))

    def join_scopes(self, scopes: Sequence[str]) -> str:
        return self.scope_separator.join(scopes)

    def parse_granted_scopes(self, raw: str | Sequence[str] | None) -> tuple[str, ...]:
        """Scopes as the token endpoint reported them, normalised to a tuple.

        Scope tokens never contain whitespace (RFC 6749 §3.3), so a whitespace-separated
        string is split whatever separator the provider declared (SPEC RT-2).
        """
        if raw is None:
            return ()
        if isinstance(raw, str):
            separator = self.granted_scope_separator or self.scope_separator
            raw = [part for piece in raw.split(separator) for part in piece.split()]
        return tuple(dict.fromkeys(scope for scope in raw if scope))

    def client_from_env(
        self, provider: str, env: Mapping[str, str], *, redirect_uri: str
    ) -> OAuthClient:
        """SPEC CM-7: the client id/secret come from the provider's env vars; a missing one
        means the integration is not configured."""
        client_id = env.get(self.client_id_env, "")
        client_secret = env.get(self.client_secret_env, "")
        pairs = ((self.client_id_env, client_id), (self.client_secret_env, client_secret))
        missing = [name for name, value in pairs if not value]
        if missing:
            raise ProviderNotConfigured(provider, missing)
        return OAuthClient(
            client_id=client_id, client_secret=SecretStr(client_secret), redirect_uri=redirect_uri
        )


class OAuthTokens(BaseModel):
    """What a code exchange or a refresh yields; the credentials service turns it into its
    stored OAuth2 credential (SPEC CS-1). Times are epoch seconds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    access_token: SecretStr
    access_token_expires_at: int | None = Field(default=None, description="None: never expires.")
    refresh_token: SecretStr | None = None
    refresh_token_expires_at: int | None = None
    scopes: tuple[str, ...] = ()
    username: str | None = Field(default=None, description="Account name at the provider.")
    title: str | None = Field(default=None, description="A label the provider suggests.")
    metadata: dict[str, Any] = Field(default_factory=dict)


class OAuthHandler(ABC):
    """One provider's OAuth flow. Implemented by the oauth service (login, callback) and used
    by the credentials service (refresh, revoke).

    `PROVIDER_NAME` may be left `None`: the registry then hands out a subclass bound to the
    name of the provider that registered it (SPEC REG-3).
    """

    PROVIDER_NAME: ClassVar[str | None] = None

    def __init__(
        self, *, config: OAuthConfig, client: OAuthClient, http: httpx.AsyncClient
    ) -> None:
        self.config = config
        self.client = client
        self.http = http

    @property
    def provider(self) -> str:
        if self.PROVIDER_NAME is None:
            raise ProviderError(f"{type(self).__qualname__} is not bound to a provider")
        return self.PROVIDER_NAME

    @abstractmethod
    def authorize_url(
        self, *, scopes: Sequence[str], state: str, code_challenge: str | None
    ) -> str:
        """Where to send the user; `code_challenge` is the S256 PKCE challenge (SPEC CS-8)."""

    @abstractmethod
    async def exchange_code(
        self, *, code: str, scopes: Sequence[str], code_verifier: str | None
    ) -> OAuthTokens:
        """Raises `OAuthFlowError` with a reason safe to show when the provider refuses."""

    @abstractmethod
    async def refresh(self, tokens: OAuthTokens) -> OAuthTokens:
        """Fresh tokens; keeps the old refresh token when the provider returns none (CM-3)."""

    @abstractmethod
    async def revoke(self, tokens: OAuthTokens) -> bool | None:
        """True: revoked; False: the provider refused; None: the provider cannot revoke."""

    def needs_refresh(self, tokens: OAuthTokens, *, now: float | None = None) -> bool:
        if tokens.access_token_expires_at is None:
            return False
        current = time.time() if now is None else now
        return tokens.access_token_expires_at < current + REFRESH_MARGIN_SECONDS
