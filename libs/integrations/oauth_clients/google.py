"""Google: one revocation call with the token alone; the account name is the profile's
e-mail. PKCE, offline access, the consent prompt and the e-mail scope are declared."""

from collections.abc import Mapping
from typing import Any, ClassVar

from integrations.oauth_clients.declared import DeclaredOAuthHandler
from integrations.providers import OAuthTokens


class GoogleOAuthHandler(DeclaredOAuthHandler):
    PROVIDER_NAME: ClassVar[str | None] = "google"

    def username_from(self, profile: Mapping[str, Any]) -> str | None:
        email = profile.get("email")
        return email if isinstance(email, str) else None

    async def revoke(self, tokens: OAuthTokens) -> bool | None:
        if self.config.revoke_url is None:
            return None
        # Either token revokes the whole grant at Google; the refresh token outlives the
        # access token, so it is the one that is surely still valid.
        token = tokens.refresh_token or tokens.access_token
        with self._calling("token revocation"):
            response = await self.http.post(
                self.config.revoke_url,
                data={"token": token.get_secret_value()},
                headers=self.request_headers(),
            )
        return response.is_success
