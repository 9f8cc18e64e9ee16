import pytest

from integrations.bus import InMemoryBus
from integrations.bus.materialized import MaterializedTable
from integrations.contracts import WebhookState, topics
from tests.unit.contracts.samples import SAMPLES

pytestmark = pytest.mark.unit


def state(webhook_id: str, version: int) -> WebhookState:
    sample = next(message for message in SAMPLES if isinstance(message, WebhookState))
    return sample.model_copy(update={"webhook_id": webhook_id, "version": version})


async def test_table_replays_the_topic_keeps_the_latest_row_and_drops_tombstones() -> None:
    bus = InMemoryBus()
    await bus.start()
    await bus.publish(topics.WEBHOOKS, state("wh-1", 1), source="test")
    await bus.publish(topics.WEBHOOKS, state("wh-1", 2), source="test")
    await bus.publish(topics.WEBHOOKS, state("wh-2", 1), source="test")
    await bus.publish(topics.WEBHOOKS, None, key="wh-2", source="test")
    table = MaterializedTable(bus, topics.WEBHOOKS, WebhookState)
    await bus.drain()
    try:
        assert await table.ready()
        row = table.get("wh-1")
        assert row is not None
        assert row.version == 2
        assert table.get("wh-2") is None
        assert len(table) == 1
    finally:
        await bus.stop()


async def test_an_undecodable_record_keeps_the_last_good_row() -> None:
    bus = InMemoryBus()
    table = MaterializedTable(bus, topics.WEBHOOKS, WebhookState)
    await bus.start()
    try:
        await bus.publish(topics.WEBHOOKS, state("wh-1", 1), source="test")
        # Drained in between: a view may skip a superseded value, as compaction would.
        await bus.drain()
        await bus.publish_raw(topics.WEBHOOKS, "wh-1", b'{"not": "a webhook"}')
        await bus.drain()
        row = table.get("wh-1")
        assert row is not None
        assert row.version == 1
    finally:
        await bus.stop()
