"""The credentials verbs: plain async functions, one per thing a user, another service or a
command asks for. They raise the domain's errors (`domain/errors.py`); entrypoints turn
those into statuses. Secrets never reach a log line: only ids do."""

import logging
from collections.abc import Sequence
from datetime import datetime

from pydantic import SecretStr, ValidationError

from integrations.contracts import StoreOAuthCredentials, transport_associated_data
from integrations.contracts.messages.credentials import TokenField
from integrations.credentials import events
from integrations.credentials.context import CredentialsContext
from integrations.credentials.domain.credentials import Credentials, OAuth2Credentials
from integrations.credentials.domain.deletion import Deleted, Deletion, NeedsConfirmation
from integrations.credentials.domain.errors import (
    ConcurrentUpdate,
    CredentialsNotFound,
    CredentialsProtected,
    UnreadableCommand,
)
from integrations.credentials.domain.ports import CredentialsAlreadyExist
from integrations.credentials.domain.rules import check_update
from integrations.credentials.domain.stored import RefreshState, StoredCredentials
from integrations.crypto import CryptoError

log = logging.getLogger(__name__)

IN_USE_MESSAGE = (
    "Webhooks made with these credentials still trigger agents. Deleting the credentials "
    "removes those triggers; confirm with force=true."
)


async def list_credentials(
    user_id: str, ctx: CredentialsContext, *, provider: str | None = None
) -> list[Credentials]:
    """SPEC CS-2, CS-4, RT-3: the user's own credentials, then the system credentials."""
    stored = await ctx.repository.for_user(user_id, provider=provider)
    return [s.credentials for s in stored] + ctx.system.all(provider=provider)


async def list_authorized_providers(user_id: str, ctx: CredentialsContext) -> list[str]:
    """SPEC CS-4: the distinct providers the user has credentials for."""
    return sorted({c.provider for c in await list_credentials(user_id, ctx)})


async def get_credentials(
    user_id: str, provider: str, credentials_id: str, ctx: CredentialsContext
) -> Credentials:
    """SPEC RT-4: missing, another user's and another provider's all look the same."""
    credentials = await _find(user_id, credentials_id, ctx)
    if credentials is None or credentials.provider != provider:
        raise CredentialsNotFound()
    return credentials


async def create_credentials(
    user_id: str, credentials: Credentials, ctx: CredentialsContext
) -> StoredCredentials:
    """SPEC CS-3 (an id taken → `CredentialsAlreadyExist`), RT-5 (system ids refused)."""
    _refuse_system(credentials.id, ctx, "created")
    ctx.registry.validate(credentials.provider)
    stored = await ctx.repository.add(user_id, credentials)
    log.info("credentials created", extra={"user_id": user_id, "credentials_id": stored.id})
    await events.publish(ctx.bus, events.created(stored))
    return stored


async def update_credentials(
    user_id: str, credentials: Credentials, ctx: CredentialsContext
) -> StoredCredentials:
    """SPEC CS-5, CS-10, CM-4: under the credential's lock; a lost version race (another
    replica wrote) re-reads and decides again, so no concurrent update is lost."""
    _refuse_system(credentials.id, ctx, "changed")
    async with ctx.locks.exclusive(user_id, credentials.id):
        stored = await _replace(user_id, credentials, ctx)
    log.info("credentials updated", extra={"user_id": user_id, "credentials_id": stored.id})
    await events.publish(ctx.bus, events.updated(stored))
    return stored


async def delete_credentials(
    user_id: str,
    provider: str,
    credentials_id: str,
    ctx: CredentialsContext,
    *,
    force: bool = False,
) -> Deletion:
    """SPEC RT-6, CS-6, CM-4: webhooks in use need `force`; tokens are revoked after."""
    _refuse_system(credentials_id, ctx, "deleted")
    async with ctx.locks.exclusive(user_id, credentials_id):
        current = await _owned(user_id, provider, credentials_id, ctx)
        if not force and await ctx.webhooks.in_use(user_id, credentials_id):
            return NeedsConfirmation(IN_USE_MESSAGE)
        await ctx.webhooks.release(user_id, credentials_id)
        if not await ctx.repository.delete(user_id, credentials_id):
            raise CredentialsNotFound()
    revoked = await _revoke(current.credentials, ctx)
    log.info("credentials deleted", extra={"user_id": user_id, "credentials_id": credentials_id})
    await events.publish(ctx.bus, events.deleted(current, revoked=revoked))
    return Deleted(revoked=revoked)


async def reveal_credentials(
    user_id: str, credentials_id: str, ctx: CredentialsContext
) -> Credentials:
    """For other services (the executor), secrets included; SPEC CM-1's refresh-on-read
    happens in `ctx.refresher`."""
    if (system := ctx.system.get(credentials_id)) is not None:
        return system
    stored = await ctx.repository.get(user_id, credentials_id)
    if stored is None:
        raise CredentialsNotFound()
    return (await ctx.refresher.ensure_fresh(stored)).credentials


async def reveal_many(
    user_id: str, credentials_ids: Sequence[str], ctx: CredentialsContext
) -> list[Credentials]:
    """SPEC CM-5 (the original's cached_getter): the user's credentials read once; ids
    that match nothing are left out."""
    owned = {s.id: s for s in await ctx.repository.for_user(user_id)}
    found: list[Credentials] = []
    for credentials_id in dict.fromkeys(credentials_ids):
        if (system := ctx.system.get(credentials_id)) is not None:
            found.append(system)
        elif (stored := owned.get(credentials_id)) is not None:
            found.append((await ctx.refresher.ensure_fresh(stored)).credentials)
    return found


async def store_oauth_credentials(command: StoreOAuthCredentials, ctx: CredentialsContext) -> None:
    """Consumer of `StoreOAuthCredentials` (DESIGN §4, OAuth connect).

    Idempotent by credential id: a redelivered command writes nothing and announces the
    stored credential again, so the oauth service's wait still ends. It never overwrites:
    a late redelivery must not roll back tokens refreshed since.
    """
    try:
        stored = await ctx.repository.add(command.user_id, _credentials_of(command, ctx))
    except CredentialsAlreadyExist:
        stored = await _stored_by(command, ctx)
    await events.publish(ctx.bus, events.created(stored, command_id=command.command_id))


async def _replace(
    user_id: str, credentials: Credentials, ctx: CredentialsContext
) -> StoredCredentials:
    for _ in range(ctx.update_attempts):
        current = await _owned(user_id, credentials.provider, credentials.id, ctx)
        check_update(current.credentials, credentials)
        # An update by the owner clears the marks of earlier failed refreshes.
        stored = await ctx.repository.replace(current, credentials, refresh=RefreshState())
        if stored is not None:
            return stored
    raise ConcurrentUpdate()


async def _find(user_id: str, credentials_id: str, ctx: CredentialsContext) -> Credentials | None:
    if (system := ctx.system.get(credentials_id)) is not None:
        return system
    stored = await ctx.repository.get(user_id, credentials_id)
    # SPEC CM-1: the user's get refreshes too, as the internal reads do.
    return None if stored is None else (await ctx.refresher.ensure_fresh(stored)).credentials


async def _owned(
    user_id: str, provider: str, credentials_id: str, ctx: CredentialsContext
) -> StoredCredentials:
    stored = await ctx.repository.get(user_id, credentials_id)
    if stored is None or stored.credentials.provider != provider:
        raise CredentialsNotFound()
    if stored.managed:
        raise CredentialsProtected("Credentials managed by the platform cannot be changed.")
    return stored


def _refuse_system(credentials_id: str, ctx: CredentialsContext, verb: str) -> None:
    if ctx.system.is_system(credentials_id):
        raise CredentialsProtected(f"System credentials cannot be {verb}.")


async def _revoke(credentials: Credentials, ctx: CredentialsContext) -> bool | None:
    if not isinstance(credentials, OAuth2Credentials):
        return None
    return await ctx.revoker.revoke(credentials)


def _credentials_of(command: StoreOAuthCredentials, ctx: CredentialsContext) -> OAuth2Credentials:
    if ctx.system.is_system(command.credentials_id):
        raise UnreadableCommand("the credentials id is a system credential's")
    if command.provider not in ctx.registry:
        raise UnreadableCommand("unknown provider")
    refresh = command.refresh_token_ciphertext
    try:
        return OAuth2Credentials(
            id=command.credentials_id,
            provider=command.provider,
            title=command.title,
            username=command.username,
            access_token=_opened(command, "access_token_ciphertext", ctx),
            access_token_expires_at=_epoch(command.access_token_expires_at),
            refresh_token=_opened(command, "refresh_token_ciphertext", ctx) if refresh else None,
            refresh_token_expires_at=_epoch(command.refresh_token_expires_at),
            scopes=command.scopes,
            metadata=command.metadata,
        )
    except (CryptoError, ValidationError) as error:
        # The type only: a validation error quotes its input, which may be a token.
        raise UnreadableCommand(type(error).__name__) from None


def _opened(
    command: StoreOAuthCredentials, field: TokenField, ctx: CredentialsContext
) -> SecretStr:
    token = getattr(command, field)
    data = transport_associated_data(command.user_id, command.credentials_id, field)
    return SecretStr(ctx.transport.decrypt_text(token, associated_data=data))


def _epoch(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


async def _stored_by(command: StoreOAuthCredentials, ctx: CredentialsContext) -> StoredCredentials:
    stored = await ctx.repository.get(command.user_id, command.credentials_id)
    if stored is None or not isinstance(stored.credentials, OAuth2Credentials):
        raise UnreadableCommand("the credentials id belongs to other or deleted credentials")
    if stored.credentials.provider != command.provider:
        raise UnreadableCommand("the credentials id belongs to another provider's credentials")
    return stored
