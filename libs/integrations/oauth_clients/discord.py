"""Discord: `/oauth2/@me` describes the authorization, with the account under `user`.
PKCE, `identify` as the default scope, form client auth and RFC 7009 are declared."""

from collections.abc import Mapping
from typing import Any, ClassVar

from integrations.oauth_clients.declared import DeclaredOAuthHandler


class DiscordOAuthHandler(DeclaredOAuthHandler):
    PROVIDER_NAME: ClassVar[str | None] = "discord"

    def username_from(self, profile: Mapping[str, Any]) -> str | None:
        user = profile.get("user")
        username = user.get("username") if isinstance(user, dict) else None
        return username if isinstance(username, str) else None
