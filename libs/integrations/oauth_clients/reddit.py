"""Reddit: every call needs a descriptive User-Agent (Reddit throttles generic ones), and a
granted scope of "*" means everything that was requested. Basic client auth and
`duration=permanent` (without it there is no refresh token) are declared."""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx

from integrations.oauth_clients.declared import Clock, DeclaredOAuthHandler
from integrations.providers import OAuthClient, OAuthConfig

# https://github.com/reddit-archive/reddit/wiki/API: <platform>:<app id>:<version> (by ...)
USER_AGENT = "server:integrations-platform:v1 (OAuth connections of an agent platform)"


class RedditOAuthHandler(DeclaredOAuthHandler):
    PROVIDER_NAME: ClassVar[str | None] = "reddit"

    def __init__(
        self,
        *,
        config: OAuthConfig,
        client: OAuthClient,
        http: httpx.AsyncClient,
        clock: Clock | None = None,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.user_agent = user_agent
        super().__init__(config=config, client=client, http=http, clock=clock)

    def request_headers(self) -> dict[str, str]:
        return {"User-Agent": self.user_agent}

    def granted_scopes(self, reported: object, requested: Sequence[str]) -> tuple[str, ...]:
        if reported == "*":
            return tuple(requested)
        return super().granted_scopes(reported, requested)

    def username_from(self, profile: Mapping[str, Any]) -> str | None:
        name = profile.get("name")
        return name if isinstance(name, str) else None
