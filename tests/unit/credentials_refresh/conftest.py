from collections.abc import AsyncIterator

import pytest

from integrations.bus import InMemoryBus
from integrations.storage import Database, open_database
from tests.unit.credentials_refresh.kit import FakeClock, FakeProvider, Replica, replica


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    database = open_database("memory://", name="credentials_refresh")
    yield database
    await database.close()


@pytest.fixture
async def bus() -> AsyncIterator[InMemoryBus]:
    bus = InMemoryBus()
    await bus.start()
    yield bus
    await bus.stop()


@pytest.fixture
def provider(clock: FakeClock) -> FakeProvider:
    return FakeProvider(clock)


@pytest.fixture
def service(
    database: Database, bus: InMemoryBus, provider: FakeProvider, clock: FakeClock
) -> Replica:
    return replica(database, bus, provider, clock)
