"""authlib's OAuth 2.0 client over an injected `httpx.AsyncClient`.

authlib's own `AsyncOAuth2Client` *is* an httpx client (it opens its own connection pool, so
a caller cannot hand it a shared client or a test transport), and its module warns at import
time when the `httpx2` package is absent. This is the same protocol client
(`authlib.oauth2.client.OAuth2Client`: authorization URL, code and refresh requests, RFC 7009
revocation, client authentication) with only its transport replaced by the caller's client,
as `AsyncOAuth2Client` itself does it.
"""

from collections.abc import Generator, Mapping
from typing import Any, cast

import httpx
from authlib.common.urls import url_decode
from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.client import DEFAULT_HEADERS, OAuth2Client

from integrations.providers.oauth import ClientAuthMethod

TokenAnswer = dict[str, Any]


class TokenEndpointAnswer(Exception):
    """The endpoint did not answer with a token.

    `error` is the OAuth error code (RFC 6749 §5.2) when the body says one, else None. Never
    carries the body: a provider may echo the request, secrets included.
    """

    def __init__(self, *, status: int, error: str | None, description: str | None) -> None:
        super().__init__(error or f"HTTP {status}")
        self.status = status
        self.error = error
        self.description = description


class HttpxClientAuth(httpx.Auth):
    """Client authentication (RFC 6749 §2.3.1) by authlib's `ClientAuth`: a Basic header for
    `client_secret_basic`, body fields for `client_secret_post`."""

    requires_request_body = True

    def __init__(self, client_id: str, client_secret: str, auth_method: str) -> None:
        self._auth = ClientAuth(client_id, client_secret, auth_method)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        headers = request.headers.copy()
        url, headers, body = self._auth.prepare(
            request.method, str(request.url), headers, request.content.decode()
        )
        # The body may have grown (client_secret_post): let httpx count it again.
        headers.pop("Content-Length", None)
        content = body.encode() if isinstance(body, str) else body
        yield httpx.Request(
            request.method, url, headers=headers, content=content, extensions=request.extensions
        )


class AsyncOAuth2Session(OAuth2Client):  # type: ignore[misc]  # authlib ships no types
    """One flow step's client (it keeps the last token as state, so make one per step).

    `fetch_token`, `refresh_token` and `revoke_token` return awaitables here: the base class
    returns whatever the overridden transport methods below return.
    """

    client_auth_class = HttpxClientAuth

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        client_id: str,
        client_secret: str,
        auth_method: ClientAuthMethod,
        redirect_uri: str,
        headers: Mapping[str, str] | None = None,
        json_token_requests: bool = False,
    ) -> None:
        super().__init__(
            http,
            client_id=client_id,
            client_secret=client_secret,
            token_endpoint_auth_method=auth_method,
            revocation_endpoint_auth_method=auth_method,
            redirect_uri=redirect_uri,
        )
        self._extra_headers = dict(headers or {})
        self._json_token_requests = json_token_requests
        # Checked after the base class is set up: its __del__ needs the session attribute.
        if json_token_requests and auth_method == "client_secret_post":
            # authlib would append the client secret to the JSON text as form fields.
            raise ValueError("JSON token requests need client_secret_basic")

    async def _fetch_token(
        self,
        url: str,
        body: str = "",
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        method: str = "POST",
        **_: Any,
    ) -> TokenAnswer:
        response = await self._post(url, body, headers, auth, json=self._json_token_requests)
        for hook in self.compliance_hook["access_token_response"]:
            response = hook(response)
        return self.parse_response_token(response)

    async def _refresh_token(
        self,
        url: str,
        refresh_token: str | None = None,
        body: str = "",
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        **_: Any,
    ) -> TokenAnswer:
        # Unlike the base class, a missing new refresh token is not patched in here: the
        # handler keeps the old one, with its own expiry (SPEC CM-3).
        response = await self._post(url, body, headers, auth, json=self._json_token_requests)
        for hook in self.compliance_hook["refresh_token_response"]:
            response = hook(response)
        return self.parse_response_token(response)

    async def _http_post(
        self,
        url: str,
        body: str | None = None,
        auth: httpx.Auth | None = None,
        headers: Mapping[str, str] | None = None,
        **_: Any,
    ) -> httpx.Response:
        # Only revocation (and introspection) come here: RFC 7009 requests are always forms.
        return await self._post(url, body or "", headers, auth, json=False)

    def parse_response_token(self, response: httpx.Response) -> TokenAnswer:
        # authlib's version builds its error from the provider's description, and refuses
        # descriptions with some characters (a ValueError that hides the provider's answer).
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if isinstance(answer, dict) and isinstance(answer.get("error"), str):
            description = answer.get("error_description")
            raise TokenEndpointAnswer(
                status=response.status_code,
                error=answer["error"],
                description=description if isinstance(description, str) else None,
            )
        if not response.is_success or not isinstance(answer, dict):
            raise TokenEndpointAnswer(status=response.status_code, error=None, description=None)
        return cast(TokenAnswer, answer)

    async def _post(
        self,
        url: str,
        body: str,
        headers: Mapping[str, str] | None,
        auth: httpx.Auth | None,
        *,
        json: bool,
    ) -> httpx.Response:
        http = cast(httpx.AsyncClient, self.session)
        merged = {**(headers or DEFAULT_HEADERS), **self._extra_headers}
        options: dict[str, Any] = {"headers": merged}
        if auth is not None:
            options["auth"] = auth
        if json:
            merged["Content-Type"] = "application/json"
            return await http.post(url, json=dict(url_decode(body)), **options)
        return await http.post(url, content=body, **options)
