"""The oauth service's use cases: start a login, complete it, hand out an Ayrshare SSO URL.

Errors are `integrations.oauth.domain.errors` (each maps to one status at the HTTP edge).
"""

import asyncio
import logging
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from integrations.crypto import Cipher
from integrations.oauth.domain import ayrshare
from integrations.oauth.domain.credentials import CredentialsMeta, OAuth2Credentials, store_command
from integrations.oauth.domain.errors import AyrshareNotConfigured, ExchangeFailed, InvalidState
from integrations.oauth.domain.ports import (
    AyrshareApi,
    CredentialsWriter,
    ManagedSecrets,
    OAuthHandlers,
    StateRepository,
)
from integrations.oauth.domain.scopes import missing_scopes
from integrations.oauth.domain.states import issue_state
from integrations.providers import OAuthFlowError

log = logging.getLogger(__name__)

Clock = Callable[[], float]


@dataclass
class Collaborators:
    handlers: OAuthHandlers
    states: StateRepository
    credentials: CredentialsWriter
    cipher: Cipher
    managed: ManagedSecrets
    ayrshare: AyrshareApi | None  # None: not configured in this deployment
    clock: Clock = time.time
    # One profile creation per user at a time in this process (see `_profile_key`); weak, so
    # a lock lives only while someone holds or awaits it.
    profile_locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary
    )


@dataclass(frozen=True, slots=True)
class LoginStarted:
    login_url: str
    state_token: str


@dataclass(frozen=True, slots=True)
class SsoUrl:
    sso_url: str
    expires_at: datetime


async def start_login(
    deps: Collaborators,
    *,
    user_id: str,
    provider: str,
    scopes: list[str],
    api_key_id: str | None = None,
) -> LoginStarted:
    """SPEC RT-1, CS-8."""
    handler = deps.handlers.handler(provider)
    now = deps.clock()
    issued = issue_state(
        user_id=user_id,
        provider=provider,
        scopes=handler.config.effective_scopes(scopes),
        now=now,
        initiated_by_api_key_id=api_key_id,
    )
    await deps.states.purge_expired(now)
    await deps.states.add(issued.state)
    login_url = handler.authorize_url(
        scopes=issued.state.scopes, state=issued.token, code_challenge=issued.code_challenge
    )
    return LoginStarted(login_url=login_url, state_token=issued.token)


async def complete_login(
    deps: Collaborators, *, user_id: str, provider: str, code: str, state_token: str
) -> CredentialsMeta:
    """SPEC RT-2, CS-9, DESIGN §4 (OAuth connect)."""
    handler = deps.handlers.handler(provider)
    state = await deps.states.take(state_token, user_id=user_id, provider=provider)
    if state is None or state.is_expired(deps.clock()):
        raise InvalidState()
    try:
        tokens = await handler.exchange_code(
            code=code, scopes=state.scopes, code_verifier=state.code_verifier.get_secret_value()
        )
    except OAuthFlowError as error:
        log.warning("code exchange failed", extra={"provider": provider, "reason": str(error)})
        raise ExchangeFailed(str(error)) from None
    if missing := missing_scopes(state.scopes, tokens.scopes):
        log.warning(
            "granted scopes do not include all requested scopes",
            extra={"provider": provider, "missing_scopes": missing},
        )
    credentials = OAuth2Credentials.from_tokens(provider, tokens)
    created = await deps.credentials.store(store_command(user_id, credentials, deps.cipher))
    return CredentialsMeta.of(created)


async def ayrshare_sso_url(deps: Collaborators, *, user_id: str) -> SsoUrl:
    """SPEC RT-12."""
    if deps.ayrshare is None:
        raise AyrshareNotConfigured()
    profile_key = await _profile_key(deps, deps.ayrshare, user_id)
    url = await deps.ayrshare.sso_url(
        profile_key=profile_key,
        allowed_social=ayrshare.ENABLED_PLATFORMS,
        expires_in_minutes=int(ayrshare.SSO_VALIDITY.total_seconds() // 60),
    )
    expires_at = datetime.fromtimestamp(deps.clock(), UTC) + ayrshare.SSO_VALIDITY
    return SsoUrl(sso_url=url, expires_at=expires_at)


async def _profile_key(deps: Collaborators, api: AyrshareApi, user_id: str) -> str:
    # Two first visits at once would create two profiles, one of them orphaned at Ayrshare.
    # The lock stops that within a replica; across replicas the later key wins, harmlessly.
    lock = deps.profile_locks.get(user_id)
    if lock is None:
        lock = deps.profile_locks[user_id] = asyncio.Lock()
    async with lock:
        key = await deps.managed.get(user_id, ayrshare.PROFILE_KEY_NAME)
        if key is None:
            key = await api.create_profile(title=ayrshare.profile_title(user_id))
            await deps.managed.put(user_id, ayrshare.PROFILE_KEY_NAME, key)
    return key
