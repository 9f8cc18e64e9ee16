"""An in-memory table of the latest message per key, materialized from a compacted topic.

Ingress and the dispatcher keep the webhook table this way: no database call on their hot
paths, readiness once the table has caught up with the topic.
"""

import logging
from collections.abc import Iterator
from typing import Generic, TypeVar

from integrations.bus.ports import Bus, Record, View
from integrations.contracts import ContractError, Message, decode_as

log = logging.getLogger(__name__)

M = TypeVar("M", bound=Message)


class MaterializedTable(Generic[M]):
    def __init__(self, bus: Bus, topic: str, message_type: type[M]) -> None:
        self._message_type = message_type
        self._rows: dict[str, M] = {}
        self._view: View = bus.subscribe_view(topic, self._apply)

    async def _apply(self, record: Record) -> None:
        if record.key is None:
            log.warning("ignoring a keyless record at %s:%s", record.partition, record.offset)
            return
        if record.value is None:
            self._rows.pop(record.key, None)
            return
        try:
            self._rows[record.key] = decode_as(self._message_type, record.value)
        except ContractError as error:
            # One bad record must not stop the table; the last good state of the key stays.
            log.error("ignoring an undecodable record for key %s: %s", record.key, error)

    def get(self, key: str) -> M | None:
        return self._rows.get(key)

    def put(self, key: str, row: M) -> None:
        """For read-through misses: a row learnt from the owner before the topic brought it."""
        self._rows[key] = row

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[M]:
        return iter(list(self._rows.values()))

    async def ready(self) -> bool:
        return self._view.caught_up.is_set()
