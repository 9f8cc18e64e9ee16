"""The verbs with in-memory adapters: concurrency (SPEC CS-10, CM-4), the
StoreOAuthCredentials consumer, and what no route shows (CS-4's authorized providers)."""

import asyncio
from datetime import UTC, datetime

import pytest

from integrations.bus import InMemoryBus
from integrations.contracts import (
    CredentialsCreated,
    CredentialsUpdated,
    StoreOAuthCredentials,
    transport_associated_data,
)
from integrations.contracts.messages.credentials import TokenField
from integrations.credentials.adapters.local_locks import LocalCredentialLocks
from integrations.credentials.context import CredentialsContext
from integrations.credentials.domain.credentials import APIKeyCredentials, OAuth2Credentials
from integrations.credentials.domain.errors import ConcurrentUpdate, UnreadableCommand
from integrations.credentials.handlers import (
    create_credentials,
    delete_credentials,
    list_authorized_providers,
    store_oauth_credentials,
    update_credentials,
)
from integrations.storage import Database
from tests.unit.credentials.kit import (
    ALICE,
    MARK,
    OPENAI_SYSTEM_ID,
    TRANSPORT,
    RecordingLocks,
    api_key,
    make_context,
    oauth2,
    published,
)

pytestmark = pytest.mark.unit

N = 12


# SPEC CS-10, CM-4


async def test_concurrent_updates_under_the_lock_all_apply(
    ctx: CredentialsContext, started_bus: InMemoryBus
) -> None:
    """SPEC CS-10: N updates at once, none lost: N versions, N events, the last one stored."""
    await create_credentials(ALICE, api_key(), ctx)
    updates = [api_key(title=f"title {n}") for n in range(N)]
    results = await asyncio.gather(*(update_credentials(ALICE, u, ctx) for u in updates))
    assert sorted(r.version for r in results) == list(range(2, N + 2))
    stored = await ctx.repository.get(ALICE, "oa-1")
    assert stored is not None
    assert stored.version == N + 1
    last = max(results, key=lambda r: r.version)
    assert stored.credentials.title == last.credentials.title
    updated = [e for e in published(started_bus) if isinstance(e, CredentialsUpdated)]
    assert len(updated) == N


@pytest.mark.parametrize("attempts", [1, 3, N + 1])
async def test_concurrent_updates_without_a_lock_each_apply_or_retry(
    database: Database, started_bus: InMemoryBus, attempts: int
) -> None:
    """SPEC CS-10 across replicas (no shared lock): every update either applies, possibly
    after re-reading, or answers ConcurrentUpdate; a success is never overwritten unseen."""
    ctx = make_context(database, started_bus, locks=RecordingLocks(), update_attempts=attempts)
    await create_credentials(ALICE, api_key(), ctx)
    updates = [api_key(title=f"title {n}") for n in range(N)]
    results = await asyncio.gather(
        *(update_credentials(ALICE, u, ctx) for u in updates), return_exceptions=True
    )
    applied = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, BaseException)]
    assert all(isinstance(r, ConcurrentUpdate) for r in refused)
    assert len(applied) + len(refused) == N
    assert sorted(r.version for r in applied) == list(range(2, len(applied) + 2))
    stored = await ctx.repository.get(ALICE, "oa-1")
    assert stored is not None
    assert stored.version == 1 + len(applied)
    events = [e for e in published(started_bus) if isinstance(e, CredentialsUpdated)]
    assert len(events) == len(applied)
    if attempts == 1:
        assert refused, "the updates really raced"
    if attempts > N:
        assert not refused, "with enough retries every update applies"


async def test_read_modify_write_of_scopes_loses_none(
    database: Database, started_bus: InMemoryBus
) -> None:
    """SPEC CS-10, CS-5: N writers each add a scope to what they read; all N land."""
    ctx = make_context(database, started_bus, locks=RecordingLocks(), update_attempts=N + 1)
    await create_credentials(ALICE, oauth2(scopes=[]), ctx)

    async def add_scope(scope: str) -> None:
        while True:
            current = await ctx.repository.get(ALICE, "gh-1")
            assert current is not None
            assert isinstance(current.credentials, OAuth2Credentials)
            scopes = [*current.credentials.scopes, scope]
            changed = current.credentials.model_copy(update={"scopes": scopes})
            if await ctx.repository.replace(current, changed) is not None:
                return

    await asyncio.gather(*(add_scope(f"scope-{n}") for n in range(N)))
    stored = await ctx.repository.get(ALICE, "gh-1")
    assert stored is not None
    assert isinstance(stored.credentials, OAuth2Credentials)
    assert sorted(stored.credentials.scopes) == sorted(f"scope-{n}" for n in range(N))


async def test_update_and_delete_hold_the_credentials_lock(
    database: Database, started_bus: InMemoryBus
) -> None:
    """SPEC CM-4: the seam the distributed lease will take over."""
    locks = RecordingLocks()
    ctx = make_context(database, started_bus, locks=locks)
    await create_credentials(ALICE, api_key(), ctx)
    await update_credentials(ALICE, api_key(title="x"), ctx)
    await delete_credentials(ALICE, "openai", "oa-1", ctx)
    assert locks.taken == [(ALICE, "oa-1"), (ALICE, "oa-1")]
    assert not locks.held


async def test_local_locks_serialise_one_credential_and_forget_idle_keys() -> None:
    locks = LocalCredentialLocks()
    inside: list[str] = []
    overlaps: list[bool] = []

    async def hold(key: str, credentials_id: str) -> None:
        async with locks.exclusive(ALICE, credentials_id):
            overlaps.append(bool(inside))
            inside.append(key)
            await asyncio.sleep(0.01)
            inside.remove(key)

    await asyncio.gather(*(hold(str(n), "same") for n in range(5)))
    assert overlaps == [False] * 5
    overlaps.clear()
    await asyncio.gather(hold("a", "one"), hold("b", "two"))
    assert overlaps == [False, True], "different credentials do not wait for each other"
    assert len(locks) == 0


# SPEC CS-4


async def test_authorized_providers_are_the_distinct_providers_of_all_credentials(
    ctx: CredentialsContext, started_bus: InMemoryBus
) -> None:
    """SPEC CS-4"""
    await create_credentials(ALICE, api_key(), ctx)
    await create_credentials(ALICE, api_key("oa-2"), ctx)
    await create_credentials(ALICE, oauth2(), ctx)
    assert await list_authorized_providers(ALICE, ctx) == ["github", "ollama", "openai"]


# StoreOAuthCredentials (DESIGN §4, OAuth connect)


def sealed(token: str, credentials_id: str, field: TokenField, user_id: str = ALICE) -> str:
    data = transport_associated_data(user_id, credentials_id, field)
    return TRANSPORT.encrypt_text(token, associated_data=data)


def store_command(
    credentials_id: str = "oauth-1", *, access: str = f"access-{MARK}", **changes: object
) -> StoreOAuthCredentials:
    fields: dict[str, object] = {
        "user_id": ALICE,
        "credentials_id": credentials_id,
        "provider": "github",
        "title": "GitHub (octocat)",
        "scopes": ["repo"],
        "username": "octocat",
        "access_token_ciphertext": sealed(access, credentials_id, "access_token_ciphertext"),
        "access_token_expires_at": datetime(2030, 1, 1, tzinfo=UTC),
        "refresh_token_ciphertext": sealed(
            f"refresh-{MARK}", credentials_id, "refresh_token_ciphertext"
        ),
        "metadata": {"installation": 7},
    }
    return StoreOAuthCredentials.model_validate(fields | changes)


async def test_store_oauth_credentials_opens_the_tokens_and_announces_them(
    ctx: CredentialsContext, started_bus: InMemoryBus
) -> None:
    command = store_command()
    await store_oauth_credentials(command, ctx)
    stored = await ctx.repository.get(ALICE, "oauth-1")
    assert stored is not None
    credentials = stored.credentials
    assert isinstance(credentials, OAuth2Credentials)
    assert credentials.access_token.get_secret_value() == f"access-{MARK}"
    assert credentials.refresh_token is not None
    assert credentials.refresh_token.get_secret_value() == f"refresh-{MARK}"
    assert credentials.access_token_expires_at == int(datetime(2030, 1, 1, tzinfo=UTC).timestamp())
    assert (credentials.username, credentials.scopes) == ("octocat", ["repo"])
    [event] = published(started_bus)
    assert isinstance(event, CredentialsCreated)
    assert (event.credentials_id, event.command_id) == ("oauth-1", command.command_id)


async def test_a_redelivered_command_is_announced_again_but_never_overwrites(
    ctx: CredentialsContext, started_bus: InMemoryBus
) -> None:
    """Idempotent by credential id: one stored credential, one CredentialsCreated per
    delivery; a late copy cannot roll back tokens changed since."""
    command = store_command()
    await store_oauth_credentials(command, ctx)
    refreshed = store_command(access=f"newer-{MARK}")
    stored = await ctx.repository.get(ALICE, "oauth-1")
    assert stored is not None
    newer = stored.credentials.model_copy(update={"title": "changed since"})
    await ctx.repository.replace(stored, newer)

    await store_oauth_credentials(command, ctx)
    await store_oauth_credentials(refreshed, ctx)

    assert len(await ctx.repository.for_user(ALICE)) == 1
    kept = await ctx.repository.get(ALICE, "oauth-1")
    assert kept is not None
    assert isinstance(kept.credentials, OAuth2Credentials)
    assert kept.credentials.title == "changed since"
    assert kept.credentials.access_token.get_secret_value() == f"access-{MARK}"
    events = published(started_bus)
    assert [type(e) for e in events] == [CredentialsCreated] * 3
    assert [e.credentials_id for e in events] == ["oauth-1"] * 3  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "command",
    [
        pytest.param(
            store_command(
                "oauth-1",
                access_token_ciphertext=sealed("t", "other-id", "access_token_ciphertext"),
            ),
            id="ciphertext moved from another credential",
        ),
        pytest.param(
            store_command(
                "oauth-1",
                access_token_ciphertext=sealed("t", "oauth-1", "refresh_token_ciphertext"),
            ),
            id="ciphertext moved from the other field",
        ),
        pytest.param(
            store_command(
                "oauth-1",
                access_token_ciphertext=sealed(
                    "t", "oauth-1", "access_token_ciphertext", user_id="mallory"
                ),
            ),
            id="ciphertext moved from another user",
        ),
        pytest.param(store_command(OPENAI_SYSTEM_ID), id="a system credential id"),
        pytest.param(store_command(provider="no-such-provider"), id="an unknown provider"),
        pytest.param(store_command(title="x" * 300), id="a title the domain refuses"),
    ],
)
async def test_a_command_that_can_never_apply_is_unreadable(
    ctx: CredentialsContext, started_bus: InMemoryBus, command: StoreOAuthCredentials
) -> None:
    with pytest.raises(UnreadableCommand) as raised:
        await store_oauth_credentials(command, ctx)
    assert MARK not in str(raised.value)
    assert await ctx.repository.for_user(ALICE) == []
    assert published(started_bus) == []


async def test_a_command_reusing_another_credentials_id_is_unreadable(
    ctx: CredentialsContext, started_bus: InMemoryBus
) -> None:
    await create_credentials(ALICE, api_key("oauth-1", provider="openai"), ctx)
    with pytest.raises(UnreadableCommand):
        await store_oauth_credentials(store_command(), ctx)
    stored = await ctx.repository.get(ALICE, "oauth-1")
    assert stored is not None
    assert isinstance(stored.credentials, APIKeyCredentials)
