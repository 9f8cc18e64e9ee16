"""`open_database`: which adapter a URL selects, and how an unreachable store is reported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from integrations.storage import StorageUnavailable, open_database
from integrations.storage.mongo import MongoDatabase
from integrations.storage.sqlite import SqliteDatabase

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "url", ["mongodb://127.0.0.1:27017/", "mongodb+srv://cluster.example.com/?tls=true"]
)
async def test_mongodb_urls_open_the_mongodb_adapter_without_connecting(url: str) -> None:
    database = open_database(url, name="credentials")

    assert isinstance(database, MongoDatabase)
    await database.close()


@pytest.mark.parametrize(
    "url", ["memory://", "sqlite://", "sqlite://:memory:", "sqlite:///:memory:"]
)
async def test_memory_urls_open_an_embedded_store_in_memory(url: str) -> None:
    database = open_database(url, name="credentials")
    assert isinstance(database, SqliteDatabase)
    try:
        await database.collection("things").insert({"_id": "a"})
        assert await database.collection("things").count({}) == 1
    finally:
        await database.close()


async def test_a_sqlite_url_with_three_slashes_is_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    database = open_database("sqlite:///var/data/store.db", name="credentials")
    assert not (tmp_path / "var").exists()

    await database.ping()
    await database.close()

    assert (tmp_path / "var" / "data" / "store.db").is_file()


async def test_a_sqlite_url_with_four_slashes_is_absolute(tmp_path: Path) -> None:
    database = open_database(f"sqlite:///{tmp_path}/nested/store.db", name="credentials")

    await database.ping()
    await database.close()

    assert (tmp_path / "nested" / "store.db").is_file()


@pytest.mark.parametrize(
    "url",
    ["postgres://localhost/db", "sqlite:///", "sqlite:///dir/", "sqlite:///x.db?mode=ro", "x"],
)
def test_unsupported_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        open_database(url, name="credentials")


@pytest.mark.parametrize("name", ["", "a.b", "a b", "1x", "x" * 64, "a/b"])
def test_invalid_database_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError):
        open_database("memory://", name=name)
    with pytest.raises(ValueError):
        open_database("mongodb://127.0.0.1/", name=name)


async def test_invalid_collection_names_are_refused() -> None:
    database = open_database("memory://", name="credentials")
    try:
        with pytest.raises(ValueError):
            database.collection("a.b")
    finally:
        await database.close()


_UNREACHABLE_SCENARIO = """
import asyncio, time
from integrations.storage import StorageUnavailable, open_database

async def main():
    database = open_database("mongodb://127.0.0.1:9/", name="credentials", timeout=0.3)
    started = time.monotonic()
    outcomes = []
    try:
        for operation in (database.ping, lambda: database.collection("things").get("a")):
            try:
                await operation()
                outcomes.append("answered")
            except StorageUnavailable:
                outcomes.append("unavailable")
    finally:
        await database.close()
    print(" ".join(outcomes), round(time.monotonic() - started, 3))

asyncio.run(main())
"""


def test_an_unreachable_mongodb_is_reported_unavailable_within_the_timeout() -> None:
    # In a child process: pymongo 4.20 leaks the socket of a monitor check that close()
    # cancels mid-connect and frees it only at interpreter exit, where it would fail this
    # session at a random later point (an "unclosed socket" ResourceWarning).
    result = subprocess.run(
        [sys.executable, "-c", _UNREACHABLE_SCENARIO],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    ping, get, elapsed = result.stdout.split()
    assert (ping, get) == ("unavailable", "unavailable")
    # Two operations, each bounded by the 0.3 s server-selection timeout.
    assert float(elapsed) < 5


async def test_an_unusable_sqlite_path_is_reported_unavailable(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    database = open_database(f"sqlite:///{tmp_path}/file/store.db", name="credentials")
    try:
        with pytest.raises(StorageUnavailable):
            await database.ping()
    finally:
        await database.close()
