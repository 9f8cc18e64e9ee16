"""Key rotation against every storage adapter: documents written under key A, the ring
becomes B,A, and `rotate_keys` re-encrypts everything under B while writers keep writing."""

from collections.abc import Mapping
from typing import Any, cast

import pytest

from integrations.credentials.adapters.credentials_repository import (
    COLLECTION,
    DocumentCredentialsRepository,
)
from integrations.credentials.adapters.key_rotation import rotate_collection, rotate_keys
from integrations.credentials.adapters.managed_repository import (
    COLLECTION as MANAGED_COLLECTION,
)
from integrations.credentials.adapters.managed_repository import (
    DocumentManagedCredentialsRepository,
)
from integrations.credentials.adapters.secrets import SealedFields
from integrations.credentials.adapters.webhook_repository import (
    COLLECTION as WEBHOOKS_COLLECTION,
)
from integrations.credentials.adapters.webhook_repository import DocumentWebhookRepository
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key, key_id_of
from integrations.storage import Database, DocumentCollection
from tests.contract.credentials_webhooks.test_webhook_repository import linked_webhook
from tests.unit.credentials.kit import ALICE, BOB, api_key, every_kind, oauth2

pytestmark = pytest.mark.contract

KEY_A = generate_root_key("key-a")
KEY_B = generate_root_key("key-b")
RING_A = KeyRing([KEY_A])
RING_BA = RING_A.with_primary(KEY_B)


def cipher(ring: KeyRing) -> Cipher:
    return Cipher.from_key_ring(ring.export(), Purpose.CREDENTIALS)


def credentials_under(database: Database, ring: KeyRing) -> DocumentCredentialsRepository:
    return DocumentCredentialsRepository(database.collection(COLLECTION), cipher(ring))


async def key_ids(database: Database, collection: str) -> set[str]:
    docs = await database.collection(collection).find({})
    return {key_id_of(token) for doc in docs for token in doc["secrets"].values()}


async def test_rotation_moves_every_secret_to_the_new_primary_and_they_still_open(
    database: Database,
) -> None:
    old = credentials_under(database, RING_A)
    for user in (ALICE, BOB):
        for credentials in every_kind():
            await old.add(user, credentials)
    await DocumentManagedCredentialsRepository(
        database.collection(MANAGED_COLLECTION), cipher(RING_A)
    ).put(ALICE, "ayrshare_profile_key", "profile")
    before = {(s.user_id, s.id): s.credentials async for s in old.scan()}

    reports = await rotate_keys(database, cipher(RING_BA))

    by_name = {r.collection: r for r in reports}
    assert (by_name[COLLECTION].scanned, by_name[COLLECTION].rotated) == (8, 8)
    assert (by_name[MANAGED_COLLECTION].scanned, by_name[MANAGED_COLLECTION].rotated) == (1, 1)
    assert not any(r.failed for r in reports)
    assert await key_ids(database, COLLECTION) == {"key-b"}
    assert await key_ids(database, MANAGED_COLLECTION) == {"key-b"}
    # Readable with the new key alone: key A can now leave the ring.
    new_only = credentials_under(database, KeyRing([KEY_B]))
    after = {(s.user_id, s.id): s.credentials async for s in new_only.scan()}
    assert after == before
    managed = DocumentManagedCredentialsRepository(
        database.collection(MANAGED_COLLECTION), cipher(KeyRing([KEY_B]))
    )
    assert await managed.get(ALICE, "ayrshare_profile_key") == "profile"


async def test_rotation_is_idempotent(database: Database) -> None:
    await credentials_under(database, RING_A).add(ALICE, oauth2())
    await rotate_keys(database, cipher(RING_BA))
    versions = [d["version"] for d in await database.collection(COLLECTION).find({})]
    [again, managed, _] = await rotate_keys(database, cipher(RING_BA))
    assert (again.scanned, again.rotated, again.current) == (1, 0, 1)
    assert (managed.scanned, managed.rotated) == (0, 0)
    assert [d["version"] for d in await database.collection(COLLECTION).find({})] == versions


class UpdateBeforeFirstReplace:
    """A collection on which a user's update lands between rotation's read and its write
    (deterministically: just before rotation's first replace reaches the store)."""

    def __init__(self, inner: DocumentCollection, update: Any) -> None:
        self._inner = inner
        self._update = update
        self.interleaved = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def replace(self, doc: Mapping[str, Any], *, expected_version: int) -> bool:
        if not self.interleaved:
            self.interleaved = True
            await self._update()
        return await self._inner.replace(doc, expected_version=expected_version)


async def test_a_concurrent_update_during_rotation_is_not_lost(database: Database) -> None:
    # A replica still on the old ring keeps writing while the rotation runs.
    old = credentials_under(database, RING_A)
    await old.add(ALICE, oauth2())

    async def user_update() -> None:
        current = await old.get(ALICE, "gh-1")
        assert current is not None
        assert await old.replace(current, oauth2(title="changed mid-rotation")) is not None

    collection = UpdateBeforeFirstReplace(database.collection(COLLECTION), user_update)
    report = await rotate_collection(
        cast(DocumentCollection, collection),
        SealedFields(cipher(RING_BA), namespace=COLLECTION),
        name=COLLECTION,
    )

    assert collection.interleaved
    assert (report.rotated, report.retried, report.failed) == (1, 1, [])
    stored = await credentials_under(database, KeyRing([KEY_B])).get(ALICE, "gh-1")
    assert stored is not None
    assert stored.credentials.title == "changed mid-rotation"
    assert stored.version == 3
    assert await key_ids(database, COLLECTION) == {"key-b"}


async def test_a_credential_deleted_during_rotation_is_counted_not_recreated(
    database: Database,
) -> None:
    old = credentials_under(database, RING_A)
    await old.add(ALICE, api_key())

    async def user_delete() -> None:
        assert await old.delete(ALICE, "oa-1")

    collection = UpdateBeforeFirstReplace(database.collection(COLLECTION), user_delete)
    report = await rotate_collection(
        cast(DocumentCollection, collection),
        SealedFields(cipher(RING_BA), namespace=COLLECTION),
        name=COLLECTION,
    )
    assert (report.rotated, report.vanished) == (0, 1)
    assert await database.collection(COLLECTION).count({}) == 0


async def test_secrets_under_a_key_the_ring_lacks_are_reported_and_left_alone(
    database: Database,
) -> None:
    stranger = KeyRing([generate_root_key("key-x")])
    await credentials_under(database, stranger).add(ALICE, api_key())
    await credentials_under(database, RING_A).add(ALICE, oauth2())
    [report, _, _] = await rotate_keys(database, cipher(RING_BA))
    assert report.failed == [f"{ALICE}/oa-1"]
    assert report.rotated == 1
    assert await key_ids(database, COLLECTION) == {"key-x", "key-b"}


async def test_webhook_secrets_rotate_with_the_credentials(database: Database) -> None:
    """A webhook's secret at rest moves to the new key and still opens with it alone."""
    webhooks_under_a = DocumentWebhookRepository(
        database.collection(WEBHOOKS_COLLECTION), cipher(RING_A)
    )
    webhook = linked_webhook("wh-rotate")
    await webhooks_under_a.add(webhook)

    reports = {r.collection: r for r in await rotate_keys(database, cipher(RING_BA))}

    assert (reports[WEBHOOKS_COLLECTION].scanned, reports[WEBHOOKS_COLLECTION].rotated) == (1, 1)
    assert await key_ids(database, WEBHOOKS_COLLECTION) == {"key-b"}
    webhooks_under_b = DocumentWebhookRepository(
        database.collection(WEBHOOKS_COLLECTION), cipher(KeyRing([KEY_B]))
    )
    stored = await webhooks_under_b.get("wh-rotate")
    assert stored is not None
    assert stored.secret.get_secret_value() == webhook.secret.get_secret_value()
