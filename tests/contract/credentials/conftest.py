"""One fixture, parametrized over the storage adapters: the embedded SQLite store and a real
MongoDB-wire server (marked `integration`), as in tests/contract/storage."""

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from integrations.storage import Database, open_database


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.integration)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(url, database name)"""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/credentials.db", "credentials_contract"
        return
    uri: str = request.getfixturevalue("mongodb_uri")
    name = f"credentials_{uuid.uuid4().hex[:16]}"
    yield uri, name
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
    with client:
        client.drop_database(name)


@pytest.fixture
async def database(database_url: tuple[str, str]) -> AsyncIterator[Database]:
    url, name = database_url
    database = open_database(url, name=name)
    yield database
    await database.close()
