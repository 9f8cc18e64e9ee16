"""The credentials repositories' contract, run against every storage adapter: what the
handlers rely on (SPEC CS-3..CS-7, CS-10), tenant isolation, and no plaintext at rest."""

import asyncio
import json

import pytest

from integrations.credentials.adapters.credentials_repository import (
    COLLECTION,
    DocumentCredentialsRepository,
)
from integrations.credentials.adapters.managed_repository import (
    COLLECTION as MANAGED_COLLECTION,
)
from integrations.credentials.adapters.managed_repository import (
    DocumentManagedCredentialsRepository,
)
from integrations.credentials.domain.credentials import OAuth2Credentials
from integrations.credentials.domain.ports import (
    CredentialsAlreadyExist,
    CredentialsRepository,
    ManagedCredentialsRepository,
)
from integrations.credentials.domain.stored import RefreshState
from integrations.storage import Database
from tests.unit.credentials.kit import (
    ALICE,
    AT_REST,
    BOB,
    MARK,
    api_key,
    every_kind,
    host_scoped,
    oauth2,
)

pytestmark = pytest.mark.contract


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        self.now += 1
        return self.now


@pytest.fixture
async def repository(database: Database) -> DocumentCredentialsRepository:
    repository = DocumentCredentialsRepository(
        database.collection(COLLECTION), AT_REST, clock=Clock()
    )
    await repository.ensure_indexes()
    await repository.ensure_indexes()  # idempotent
    return repository


@pytest.fixture
async def managed(database: Database) -> DocumentManagedCredentialsRepository:
    managed = DocumentManagedCredentialsRepository(database.collection(MANAGED_COLLECTION), AT_REST)
    await managed.ensure_indexes()
    return managed


def test_the_adapters_implement_the_ports(
    repository: DocumentCredentialsRepository, managed: DocumentManagedCredentialsRepository
) -> None:
    _: CredentialsRepository = repository
    __: ManagedCredentialsRepository = managed


async def test_adds_and_gets_every_kind(repository: DocumentCredentialsRepository) -> None:
    for credentials in every_kind():
        added = await repository.add(ALICE, credentials)
        assert added.version == 1
        assert await repository.get(ALICE, credentials.id) == added


async def test_refuses_an_id_the_user_already_has(
    repository: DocumentCredentialsRepository,
) -> None:
    """SPEC CS-3"""
    await repository.add(ALICE, api_key())
    with pytest.raises(CredentialsAlreadyExist):
        await repository.add(ALICE, api_key(title="again"))


async def test_users_never_see_each_others_credentials(
    repository: DocumentCredentialsRepository,
) -> None:
    await repository.add(ALICE, api_key())
    assert await repository.get(BOB, "oa-1") is None
    assert await repository.for_user(BOB) == []
    assert await repository.delete(BOB, "oa-1") is False
    mine = await repository.add(BOB, api_key(title="Bob's"))
    assert (await repository.get(BOB, "oa-1")) == mine
    alices = await repository.get(ALICE, "oa-1")
    assert alices is not None
    assert alices.credentials.title == "My OpenAI key"


async def test_lists_a_users_credentials_in_creation_order_and_by_provider(
    repository: DocumentCredentialsRepository,
) -> None:
    """SPEC CS-4"""
    for credentials in every_kind():
        await repository.add(ALICE, credentials)
    await repository.add(ALICE, api_key("oa-2"))
    everything = await repository.for_user(ALICE)
    assert [s.id for s in everything] == ["gh-1", "oa-1", "up-1", "hs-1", "oa-2"]
    openai = await repository.for_user(ALICE, provider="openai")
    assert [s.id for s in openai] == ["oa-1", "oa-2"]


async def test_replace_bumps_the_version_and_loses_to_a_newer_write(
    repository: DocumentCredentialsRepository,
) -> None:
    """SPEC CS-10: optimistic concurrency."""
    first = await repository.add(ALICE, oauth2())
    failing = RefreshState(failed=True, attempts=1, last_error="timeout", last_attempt_at=5.0)
    second = await repository.replace(first, oauth2(title="two"), refresh=failing)
    assert second is not None
    assert second.version == 2
    assert second.created_at == first.created_at < second.updated_at
    assert await repository.replace(first, oauth2(title="stale")) is None
    kept = await repository.replace(second, oauth2(title="three"))
    assert kept is not None
    assert kept.refresh == failing, "refresh=None keeps the state"
    assert await repository.get(ALICE, "gh-1") == kept


async def test_of_n_concurrent_replaces_of_one_version_exactly_one_wins(
    repository: DocumentCredentialsRepository,
) -> None:
    """SPEC CS-10"""
    current = await repository.add(ALICE, api_key())
    results = await asyncio.gather(
        *(repository.replace(current, api_key(title=f"t{n}")) for n in range(8))
    )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
    assert await repository.get(ALICE, "oa-1") == winners[0]


async def test_deletes_by_id(repository: DocumentCredentialsRepository) -> None:
    """SPEC CS-6"""
    await repository.add(ALICE, api_key())
    assert await repository.delete(ALICE, "oa-1") is True
    assert await repository.get(ALICE, "oa-1") is None
    assert await repository.delete(ALICE, "oa-1") is False


async def test_finds_refreshable_oauth2_credentials_expiring_first(
    repository: DocumentCredentialsRepository,
) -> None:
    await repository.add(ALICE, oauth2("late", access_token_expires_at=3_000))
    await repository.add(ALICE, oauth2("soon", access_token_expires_at=2_000))
    await repository.add(BOB, oauth2("bobs", access_token_expires_at=2_500))
    await repository.add(ALICE, oauth2("never", access_token_expires_at=None))
    await repository.add(
        ALICE, oauth2("no-refresh", access_token_expires_at=1_000, refresh_token=None)
    )
    await repository.add(ALICE, oauth2("later", access_token_expires_at=9_000))
    await repository.add(ALICE, api_key(expires_at=1_000))
    found = await repository.expiring_before(5_000, limit=10)
    assert [(s.user_id, s.id) for s in found] == [(ALICE, "soon"), (BOB, "bobs"), (ALICE, "late")]
    assert [s.id for s in await repository.expiring_before(5_000, limit=2)] == ["soon", "bobs"]


async def test_scan_visits_every_credential_once(
    repository: DocumentCredentialsRepository,
) -> None:
    for n in range(450):  # more than one scan batch
        await repository.add(f"user-{n % 7}", api_key(f"key-{n}"))
    seen = [(s.user_id, s.id) async for s in repository.scan()]
    assert len(seen) == len(set(seen)) == 450


async def test_stored_documents_hold_no_plaintext_secret(
    repository: DocumentCredentialsRepository,
    managed: DocumentManagedCredentialsRepository,
    database: Database,
) -> None:
    """DESIGN §6: secrets at rest are ciphertext; raw documents are scanned for them."""
    for credentials in every_kind():
        await repository.add(ALICE, credentials)
    await managed.put(ALICE, "ayrshare_profile_key", f"profile-{MARK}")
    raw = [
        *await database.collection(COLLECTION).find({}),
        *await database.collection(MANAGED_COLLECTION).find({}),
    ]
    assert len(raw) == 5
    dumped = json.dumps(raw)
    assert MARK not in dumped
    for doc in raw:
        assert doc["secrets"], "every document carries its secrets, sealed"
        assert all(token.startswith("v1.k1.") for token in doc["secrets"].values())
    hosts = [d for d in raw if d.get("type") == "host_scoped"]
    assert hosts[0]["attributes"]["host"] == host_scoped().host


async def test_oauth_metadata_with_keys_the_store_refuses_round_trips(
    repository: DocumentCredentialsRepository,
) -> None:
    added = await repository.add(ALICE, oauth2(metadata={"a.b": {"$c": [1, 2]}}))
    got = await repository.get(ALICE, "gh-1")
    assert got == added
    assert isinstance(got.credentials, OAuth2Credentials)
    assert got.credentials.metadata == {"a.b": {"$c": [1, 2]}}


# SPEC CS-7


async def test_managed_credentials_are_per_user_and_overwritable(
    managed: DocumentManagedCredentialsRepository,
) -> None:
    """SPEC CS-7"""
    assert await managed.get(ALICE, "ayrshare_profile_key") is None
    await managed.put(ALICE, "ayrshare_profile_key", "one")
    await managed.put(ALICE, "ayrshare_profile_key", "two")
    assert await managed.get(ALICE, "ayrshare_profile_key") == "two"
    assert await managed.get(BOB, "ayrshare_profile_key") is None
    assert await managed.delete(BOB, "ayrshare_profile_key") is False
    assert await managed.delete(ALICE, "ayrshare_profile_key") is True
    assert await managed.get(ALICE, "ayrshare_profile_key") is None


async def test_concurrent_puts_of_a_managed_secret_leave_one_whole_value(
    managed: DocumentManagedCredentialsRepository,
) -> None:
    values = [f"value-{n}" for n in range(8)]
    await asyncio.gather(*(managed.put(ALICE, "k", value) for value in values))
    assert await managed.get(ALICE, "k") in values
