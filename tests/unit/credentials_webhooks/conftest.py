from collections.abc import AsyncIterator

import pytest

from integrations.bus import InMemoryBus
from integrations.credentials.adapters.webhook_repository import DocumentWebhookRepository
from integrations.credentials.webhook_context import WebhookContext
from integrations.storage import Database, open_database
from tests.unit.credentials_webhooks.kit import (
    FakeCredentials,
    FakeGitHub,
    make_context,
)


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    database = open_database("memory://", name="credentials_webhooks")
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
