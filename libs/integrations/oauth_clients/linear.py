"""Linear: scopes go out comma-separated and come back space-separated (declared on the
catalogue entry and parsed by the declared handler, never in a router); the account name
comes from a GraphQL `viewer` query; revocation takes the token as a bearer credential."""

from typing import ClassVar

import httpx

from integrations.oauth_clients.declared import Clock, DeclaredOAuthHandler
from integrations.providers import OAuthClient, OAuthConfig, OAuthTokens

GRAPHQL_URL = "https://api.linear.app/graphql"
_VIEWER_QUERY = "query Viewer { viewer { name email } }"


class LinearOAuthHandler(DeclaredOAuthHandler):
    PROVIDER_NAME: ClassVar[str | None] = "linear"

    def __init__(
        self,
        *,
        config: OAuthConfig,
        client: OAuthClient,
        http: httpx.AsyncClient,
        clock: Clock | None = None,
        graphql_url: str = GRAPHQL_URL,
    ) -> None:
        super().__init__(config=config, client=client, http=http, clock=clock)
        self.graphql_url = graphql_url

    async def fetch_username(self, access_token: str) -> str | None:
        response = await self.http.post(
            self.graphql_url,
            json={"query": _VIEWER_QUERY},
            headers={"Authorization": f"Bearer {access_token}", **self.request_headers()},
        )
        response.raise_for_status()
        viewer = response.json()["data"]["viewer"]
        name = viewer.get("name") or viewer.get("email")
        return name if isinstance(name, str) else None

    async def revoke(self, tokens: OAuthTokens) -> bool | None:
        if self.config.revoke_url is None:
            return None
        with self._calling("token revocation"):
            response = await self.http.post(
                self.config.revoke_url,
                headers={
                    "Authorization": f"Bearer {tokens.access_token.get_secret_value()}",
                    **self.request_headers(),
                },
            )
        return response.is_success
