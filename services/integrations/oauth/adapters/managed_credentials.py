"""Client of the credentials service's internal managed-credentials routes (SPEC CS-7).

Contract (served by credentials, relied on here)::

    GET {CREDENTIALS_INTERNAL_URL}/internal/users/{user_id}/managed/{name}
    Authorization: Bearer <SERVICE_TOKEN>
        200  {"secret": "<value>"}
        404  nothing stored under that name for that user

    PUT {CREDENTIALS_INTERNAL_URL}/internal/users/{user_id}/managed/{name}
    Authorization: Bearer <SERVICE_TOKEN>
    Content-Type: application/json
    {"secret": "<value>"}
        204  stored: created, or the previous value replaced (200 is accepted too)

`user_id` and `name` are percent-encoded path segments. Anything else (401/403, 5xx, an
unexpected body, a timeout, a refused connection) is `ManagedCredentialsUnavailable`.
"""

from urllib.parse import quote

import httpx
from pydantic import BaseModel, SecretStr, ValidationError

from integrations.oauth.domain.errors import ManagedCredentialsUnavailable

MANAGED_PATH = "/internal/users/{user_id}/managed/{name}"


class ManagedSecretBody(BaseModel):
    secret: str


class ManagedCredentialsClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        service_token: SecretStr | None,
        timeout_s: float,
    ) -> None:
        self._http = http
        self._base_url = base_url.rstrip("/")
        self._service_token = service_token
        self._timeout = httpx.Timeout(timeout_s)

    async def get(self, user_id: str, name: str) -> str | None:
        response = await self._call("GET", user_id, name)
        if response.status_code == httpx.codes.NOT_FOUND:
            return None
        if response.status_code != httpx.codes.OK:
            raise ManagedCredentialsUnavailable(_answered(response))
        try:
            return ManagedSecretBody.model_validate_json(response.content).secret
        except ValidationError:
            raise ManagedCredentialsUnavailable(
                "The credentials service answered an invalid managed credential."
            ) from None

    async def put(self, user_id: str, name: str, secret: str) -> None:
        body = ManagedSecretBody(secret=secret).model_dump()
        response = await self._call("PUT", user_id, name, json=body)
        if response.status_code not in (httpx.codes.NO_CONTENT, httpx.codes.OK):
            raise ManagedCredentialsUnavailable(_answered(response))

    async def _call(
        self, method: str, user_id: str, name: str, json: dict[str, str] | None = None
    ) -> httpx.Response:
        path = MANAGED_PATH.format(user_id=quote(user_id, safe=""), name=quote(name, safe=""))
        headers = {"Accept": "application/json"}
        if self._service_token is not None:
            headers["Authorization"] = f"Bearer {self._service_token.get_secret_value()}"
        try:
            return await self._http.request(
                method, self._base_url + path, headers=headers, json=json, timeout=self._timeout
            )
        except httpx.HTTPError as error:
            # The type only: the message names the request, whose headers hold the token.
            raise ManagedCredentialsUnavailable(
                f"The credentials service is unreachable ({type(error).__name__})."
            ) from None


def _answered(response: httpx.Response) -> str:
    return f"The credentials service answered HTTP {response.status_code}."
