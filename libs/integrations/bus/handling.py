"""Behaviour both adapters share once a record has arrived."""

import logging

from integrations.bus.ports import Handler, Record

log = logging.getLogger("integrations.bus")


async def apply_to_view(handler: Handler, record: Record) -> None:
    # A view is an in-memory projection: a record it cannot apply is a bug to log, not a
    # reason to stop applying every later update (readiness would stay red until a restart).
    try:
        await handler(record)
    except Exception:
        log.exception(
            "view handler failed; record skipped",
            extra={"topic": record.topic, "partition": record.partition, "offset": record.offset},
        )
