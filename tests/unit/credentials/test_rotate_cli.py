"""`integrations keys rotate`: the operator's side of key rotation."""

import asyncio
from pathlib import Path

import pytest
from typer.testing import CliRunner

from integrations.cli.main import app
from integrations.credentials.adapters.credentials_repository import (
    COLLECTION,
    DocumentCredentialsRepository,
)
from integrations.crypto import Cipher, KeyRing, Purpose, generate_root_key, key_id_of
from integrations.storage import open_database
from tests.unit.credentials.kit import ALICE, MARK, every_kind

pytestmark = pytest.mark.unit

runner = CliRunner()
OLD = KeyRing([generate_root_key("old")])
NEW = OLD.with_primary(generate_root_key("new"))


async def store_under_old_key(url: str) -> None:
    database = open_database(url, name="credentials_cli")
    repository = DocumentCredentialsRepository(
        database.collection(COLLECTION), Cipher.from_key_ring(OLD.export(), Purpose.CREDENTIALS)
    )
    for credentials in every_kind():
        await repository.add(ALICE, credentials)
    await database.close()


async def key_ids(url: str) -> set[str]:
    database = open_database(url, name="credentials_cli")
    docs = await database.collection(COLLECTION).find({})
    await database.close()
    return {key_id_of(token) for doc in docs for token in doc["secrets"].values()}


def test_rotate_reencrypts_under_the_new_primary_and_reports_counts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path}/credentials.db"
    asyncio.run(store_under_old_key(url))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_NAME", "credentials_cli")
    monkeypatch.setenv("ENCRYPTION_KEYS", NEW.export())

    first = runner.invoke(app, ["keys", "rotate"])
    assert first.exit_code == 0, first.output
    assert "credentials: 4 scanned, 4 rotated, 0 already current" in first.output
    assert asyncio.run(key_ids(url)) == {"new"}
    again = runner.invoke(app, ["keys", "rotate"])
    assert "credentials: 4 scanned, 0 rotated, 4 already current" in again.output
    assert MARK not in first.output + again.output


def test_rotate_fails_when_secrets_cannot_be_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The old key was dropped too early: exit 1, name the records, change nothing."""
    url = f"sqlite:///{tmp_path}/credentials.db"
    asyncio.run(store_under_old_key(url))
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("DATABASE_NAME", "credentials_cli")
    monkeypatch.setenv("ENCRYPTION_KEYS", KeyRing([generate_root_key("other")]).export())
    result = runner.invoke(app, ["keys", "rotate"])
    assert result.exit_code == 1
    assert "4 failed" in result.output
    assert f"{ALICE}/gh-1" in result.output
    assert asyncio.run(key_ids(url)) == {"old"}


def test_rotate_without_keys_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ENCRYPTION_KEYS", raising=False)
    result = runner.invoke(app, ["keys", "rotate"])
    assert result.exit_code != 0
    assert "ENCRYPTION_KEYS" in result.output
