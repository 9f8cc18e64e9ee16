"""The webhook repository's adapters: the embedded SQLite store and MongoDB (the harness's
MongoDB-wire server, marked `integration`), a fresh database per test."""

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from integrations.bus import InMemoryBus
from integrations.credentials.adapters.webhook_repository import DocumentWebhookRepository
from integrations.credentials.webhook_context import WebhookContext
from integrations.storage import Database, open_database
from tests.unit.credentials_webhooks.kit import FakeCredentials, FakeGitHub, make_context


@dataclass(frozen=True)
class Store:
    url: str
    name: str


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.integration)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    if request.param == "sqlite":
        yield Store(f"sqlite:///{tmp_path}/data/credentials.db", "credentials")
        return
    uri: str = request.getfixturevalue("mongodb_uri")
    store = Store(uri, f"webhooks_{uuid.uuid4().hex[:16]}")
    yield store
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
    with client:
        client.drop_database(store.name)


@pytest.fixture
async def database(store: Store) -> AsyncIterator[Database]:
    database = open_database(store.url, name=store.name)
    yield database
    await database.close()


@pytest.fixture
async def bus() -> AsyncIterator[InMemoryBus]:
    bus = InMemoryBus(redelivery_delay_s=0.01)
    await bus.start()
    yield bus
    await bus.stop()


@pytest.fixture
def github() -> FakeGitHub:
    return FakeGitHub()


@pytest.fixture
def credentials() -> FakeCredentials:
    credentials = FakeCredentials()
    credentials.add()
    return credentials


@pytest.fixture
async def ctx(
    database: Database, bus: InMemoryBus, github: FakeGitHub, credentials: FakeCredentials
) -> WebhookContext:
    ctx = make_context(database, bus, github, credentials)
    assert isinstance(ctx.repository, DocumentWebhookRepository)
    await ctx.repository.ensure_indexes()
    return ctx


@pytest.fixture
def repository(ctx: WebhookContext) -> DocumentWebhookRepository:
    assert isinstance(ctx.repository, DocumentWebhookRepository)
    return ctx.repository
