"""Reads the dead-letter topic from Kafka, for `integrations dlq replay`."""

from collections.abc import AsyncIterator

from integrations.bus import Record
from integrations.bus.kafka_readers import TopicReader
from integrations.bus.settings import KafkaSettings
from integrations.contracts import topics


async def read_dead_letters(settings: KafkaSettings) -> AsyncIterator[Record]:
    """Every dead letter up to the topic's end as of now. Letters written meanwhile (a
    replayed event that fails again) wait for the next run, so a replay always ends."""
    reader = TopicReader(topics.WEBHOOK_EVENTS_DLQ, settings, start_at="earliest")
    try:
        await reader.open()
        ends = await reader.end_offsets()
        while not await reader.reached(ends):
            for record in await reader.batch():
                if record.offset < ends.get(record.partition, 0):
                    yield record
    finally:
        await reader.close()
