from collections.abc import AsyncIterator

import httpx
import pytest

from integrations.bus import InMemoryBus
from integrations.credentials.adapters.credentials_repository import (
    COLLECTION,
    DocumentCredentialsRepository,
)
from integrations.credentials.context import CredentialsContext
from integrations.storage import Database, open_database
from tests.unit.credentials.kit import (
    AT_REST,
    FakeRevoker,
    FakeWebhooks,
    http_client,
    make_context,
)


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    database = open_database("memory://", name="credentials_test")
    yield database
    await database.close()


@pytest.fixture
def bus() -> InMemoryBus:
    return InMemoryBus()


@pytest.fixture
def webhooks() -> FakeWebhooks:
    return FakeWebhooks()


@pytest.fixture
def revoker() -> FakeRevoker:
    return FakeRevoker()


@pytest.fixture
async def ctx(
    database: Database, bus: InMemoryBus, webhooks: FakeWebhooks, revoker: FakeRevoker
) -> CredentialsContext:
    ctx = make_context(database, bus, webhooks=webhooks, revoker=revoker)
    await DocumentCredentialsRepository(database.collection(COLLECTION), AT_REST).ensure_indexes()
    return ctx


@pytest.fixture
async def started_bus(bus: InMemoryBus) -> AsyncIterator[InMemoryBus]:
    """For handler tests, which publish without an app around them."""
    await bus.start()
    yield bus
    await bus.stop()


@pytest.fixture
async def client(ctx: CredentialsContext, bus: InMemoryBus) -> AsyncIterator[httpx.AsyncClient]:
    async with http_client(ctx, bus) as client:
        yield client
