"""Twitter / X: the account name sits under `data` in `/2/users/me`. Everything else is
declared: PKCE (required by X), Basic client auth, `offline.access` for a refresh token,
RFC 7009 revocation. X rotates refresh tokens: the declared handler keeps the new one."""

from collections.abc import Mapping
from typing import Any, ClassVar

from integrations.oauth_clients.declared import DeclaredOAuthHandler


class TwitterOAuthHandler(DeclaredOAuthHandler):
    PROVIDER_NAME: ClassVar[str | None] = "twitter"

    def username_from(self, profile: Mapping[str, Any]) -> str | None:
        data = profile.get("data")
        username = data.get("username") if isinstance(data, dict) else None
        return username if isinstance(username, str) else None
