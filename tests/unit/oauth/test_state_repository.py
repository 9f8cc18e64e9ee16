"""The state repository on the embedded store (SPEC CS-9: single use, even concurrently)."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from integrations.oauth.adapters.state_repository import COLLECTION, DocumentStateRepository
from integrations.oauth.domain.states import IssuedState, issue_state
from integrations.storage import Database, open_database

pytestmark = pytest.mark.unit


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    database = open_database("memory://", name="oauth")
    yield database
    await database.close()


@pytest.fixture
async def states(database: Database) -> DocumentStateRepository:
    repository = DocumentStateRepository(database.collection(COLLECTION))
    await repository.ensure_indexes()
    return repository


def state(now: float = 1000.0) -> IssuedState:
    return issue_state(
        user_id="u-1",
        provider="github",
        scopes=("repo", "read:org"),
        now=now,
        callback_url="https://app.test/done",
        metadata={"graph.id": "g-1", "$weird": True},
        initiated_by_api_key_id="key-1",
    )


async def test_a_state_comes_back_whole_once(states: DocumentStateRepository) -> None:
    """SPEC CS-8, CS-9."""
    issued = state()
    await states.add(issued.state)

    taken = await states.take(issued.token, user_id="u-1", provider="github")
    again = await states.take(issued.token, user_id="u-1", provider="github")

    assert taken == issued.state
    assert again is None


async def test_another_users_or_providers_attempt_leaves_the_state_usable(
    states: DocumentStateRepository,
) -> None:
    """SPEC CS-9: user-bound and provider-bound; a foreign attempt consumes nothing."""
    issued = state()
    await states.add(issued.state)

    assert await states.take(issued.token, user_id="u-2", provider="github") is None
    assert await states.take(issued.token, user_id="u-1", provider="google") is None
    # A different first character (a random token starts with "x" one time in 64).
    forged = ("y" if issued.token.startswith("x") else "x") + issued.token[1:]
    assert await states.take(forged, user_id="u-1", provider="github") is None
    assert await states.take(issued.token, user_id="u-1", provider="github") is not None


async def test_of_concurrent_takes_exactly_one_gets_the_state(
    states: DocumentStateRepository,
) -> None:
    """SPEC CS-9: single use even under concurrent callbacks."""
    issued = state()
    await states.add(issued.state)

    results = await asyncio.gather(
        *(states.take(issued.token, user_id="u-1", provider="github") for _ in range(20))
    )

    assert sum(result is not None for result in results) == 1


async def test_expired_states_are_purged_in_code(
    states: DocumentStateRepository, database: Database
) -> None:
    """No TTL index does it: the embedded store has none (docs/storage.md)."""
    old, fresh = state(now=0.0), state(now=1000.0)
    await states.add(old.state)
    await states.add(fresh.state)

    assert await states.purge_expired(now=700.0) == 1
    assert await database.collection(COLLECTION).count({}) == 1
    assert await states.take(fresh.token, user_id="u-1", provider="github") is not None
