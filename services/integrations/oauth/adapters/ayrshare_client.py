"""Ayrshare's profile API (https://www.ayrshare.com/docs/apis/profiles): create a user
profile, and have Ayrshare sign the SSO JWT (with our private key) into a login URL.

Every failure is `AyrshareFailed` with a fixed message; Ayrshare's answers are logged by
status only, since they may echo the request (our API key and private key)."""

import logging
from collections.abc import Sequence
from typing import Any

import httpx
from pydantic import SecretStr

from integrations.oauth.domain.errors import AyrshareFailed

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.ayrshare.com/api"


class AyrshareClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        api_key: SecretStr,
        private_key: SecretStr,
        domain: str,
        base_url: str = DEFAULT_BASE_URL,
    ) -> None:
        self._http = http
        self._api_key = api_key
        self._private_key = private_key
        self._domain = domain
        self._base_url = base_url.rstrip("/")

    async def create_profile(self, *, title: str) -> str:
        answer = await self._post(
            "/profiles",
            {"title": title, "messagingActive": True},
            failure="Failed to create Ayrshare profile.",
        )
        key = answer.get("profileKey")
        if not isinstance(key, str) or not key:
            log.warning("ayrshare profile answer has no profileKey")
            raise AyrshareFailed("Failed to create Ayrshare profile.")
        return key

    async def sso_url(
        self, *, profile_key: str, allowed_social: Sequence[str], expires_in_minutes: int
    ) -> str:
        answer = await self._post(
            "/profiles/generateJWT",
            {
                "domain": self._domain,
                "privateKey": self._private_key.get_secret_value(),
                "profileKey": profile_key,
                "allowedSocial": list(allowed_social),
                "expiresIn": expires_in_minutes,
                "verify": True,
            },
            failure="Failed to generate JWT.",
        )
        url = answer.get("url")
        if not isinstance(url, str) or not url.startswith("https://"):
            log.warning("ayrshare JWT answer has no https url")
            raise AyrshareFailed("Failed to generate JWT.")
        return url

    async def _post(self, path: str, body: dict[str, Any], *, failure: str) -> dict[str, Any]:
        try:
            response = await self._http.post(
                self._base_url + path,
                json=body,
                headers={"Authorization": f"Bearer {self._api_key.get_secret_value()}"},
            )
        except httpx.HTTPError as error:
            log.warning("ayrshare unreachable", extra={"error": type(error).__name__})
            raise AyrshareFailed(failure) from None
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not response.is_success or not isinstance(answer, dict):
            log.warning("ayrshare refused", extra={"path": path, "status": response.status_code})
            raise AyrshareFailed(failure)
        if answer.get("status") == "error":
            log.warning("ayrshare answered an error", extra={"path": path})
            raise AyrshareFailed(failure)
        return answer
