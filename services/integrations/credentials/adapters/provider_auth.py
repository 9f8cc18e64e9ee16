"""`ProviderAuthSource` over the credentials this service stores: a webhook manager gets
the one token it needs, read the way any use reads credentials (refreshed when about to
expire, SPEC CM-1)."""

from collections.abc import Awaitable, Callable

from pydantic import SecretStr

from integrations.credentials.domain.credentials import (
    APIKeyCredentials,
    Credentials,
    OAuth2Credentials,
)
from integrations.credentials.domain.errors import CredentialsNotFound
from integrations.credentials.domain.ports import CredentialsRepository
from integrations.credentials.domain.refresh import CredentialsRefreshFailed
from integrations.credentials.domain.stored import StoredCredentials
from integrations.providers import ProviderAuth

# (user_id, credentials_id) → the credentials in clear; raises `CredentialsNotFound`.
RevealCredentials = Callable[[str, str], Awaitable[Credentials]]
# The refresher's read for use: `stored`, or fresher credentials if about to expire.
Freshen = Callable[[StoredCredentials], Awaitable[StoredCredentials]]


def revealing(repository: CredentialsRepository, freshen: Freshen) -> RevealCredentials:
    async def reveal(user_id: str, credentials_id: str) -> Credentials:
        stored = await repository.get(user_id, credentials_id)
        if stored is None:
            raise CredentialsNotFound()
        return (await freshen(stored)).credentials

    return reveal


class StoredCredentialsAuth:
    def __init__(self, reveal: RevealCredentials) -> None:
        self._reveal = reveal

    async def auth_for(
        self, user_id: str, credentials_id: str, provider: str
    ) -> ProviderAuth | None:
        try:
            credentials = await self._reveal(user_id, credentials_id)
        except (CredentialsNotFound, CredentialsRefreshFailed):
            return None  # gone, or expired beyond repair: nothing a provider would accept
        token = _token_of(credentials)
        if credentials.provider != provider or token is None:
            return None
        return ProviderAuth(credentials_id=credentials.id, token=token)


def _token_of(credentials: Credentials) -> SecretStr | None:
    if isinstance(credentials, OAuth2Credentials):
        return credentials.access_token
    if isinstance(credentials, APIKeyCredentials):
        return credentials.api_key
    return None  # a username/password or host-scoped headers register no webhook
