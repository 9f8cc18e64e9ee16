from collections.abc import AsyncIterator

import pytest

from integrations.bus import InMemoryBus
from integrations.storage import Database, open_database


@pytest.fixture
async def bus() -> AsyncIterator[InMemoryBus]:
    bus = InMemoryBus(redelivery_delay_s=0.01)
    await bus.start()
    yield bus
    await bus.stop()


@pytest.fixture
async def database() -> AsyncIterator[Database]:
    database = open_database("memory://", name="dispatcher")
    yield database
    await database.close()
