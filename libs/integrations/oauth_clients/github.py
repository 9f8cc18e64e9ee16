"""GitHub: revocation is not RFC 7009 but a REST call of the OAuth app, and the account name
is the profile's `login`. Scopes (space in, comma out) and the rest are declared."""

from collections.abc import Mapping
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from integrations.oauth_clients.declared import DeclaredOAuthHandler
from integrations.providers import OAuthTokens

# https://docs.github.com/en/rest/apps/oauth-applications#delete-an-app-token
API_HEADERS = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": "2022-11-28"}


class GitHubOAuthHandler(DeclaredOAuthHandler):
    PROVIDER_NAME: ClassVar[str | None] = "github"

    def username_from(self, profile: Mapping[str, Any]) -> str | None:
        login = profile.get("login")
        return login if isinstance(login, str) else None

    async def fetch_username(self, access_token: str) -> str | None:
        if self.config.user_info_url is None:
            return None
        response = await self.http.get(
            self.config.user_info_url,
            headers={"Authorization": f"Bearer {access_token}", **API_HEADERS},
        )
        response.raise_for_status()
        profile = response.json()
        return self.username_from(profile) if isinstance(profile, dict) else None

    async def revoke(self, tokens: OAuthTokens) -> bool | None:
        if self.config.revoke_url is None:
            return None
        url = self.config.revoke_url.format(client_id=quote(self.client.client_id, safe=""))
        with self._calling("token revocation"):
            # DELETE with a body: only `request` takes one. The app authenticates with Basic.
            response = await self.http.request(
                "DELETE",
                url,
                json={"access_token": tokens.access_token.get_secret_value()},
                headers=API_HEADERS,
                auth=(self.client.client_id, self.client.client_secret.get_secret_value()),
            )
        # 404: GitHub no longer knows the token, which is what revoking wanted.
        return response.status_code in (httpx.codes.NO_CONTENT, httpx.codes.NOT_FOUND)
