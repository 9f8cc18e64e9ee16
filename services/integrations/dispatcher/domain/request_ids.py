"""Deterministic execution-request ids (DESIGN §4 Dispatch).

The same event reaching the same trigger always yields the same id, so a record dispatched
twice (a crash before its commit, a DLQ replay) repeats an identical request that an
idempotent executor runs once. A manual redelivery is a new run on purpose: its number is
part of the name, so it gets new ids, still the same ones if that redelivery is retried.
"""

import uuid
from typing import Final

from integrations.contracts import NodeTrigger, PresetTrigger

# Fixed forever: changing it would change every id and re-run redelivered events.
REQUEST_ID_NAMESPACE: Final = uuid.UUID("4d4d9ee3-d7ba-4c7c-ac8d-5c6248eb144b")


def target_key(trigger: NodeTrigger | PresetTrigger) -> str:
    """A trigger's identity within its webhook."""
    if isinstance(trigger, PresetTrigger):
        return f"preset:{trigger.preset_id}"
    return f"node:{trigger.graph_id}:{trigger.node_id}"


def request_id(*, webhook_id: str, event_id: str, target: str, redelivery: int = 0) -> str:
    """uuid5 of the event (webhook and event id), the target and the redelivery number.

    The webhook id is part of the name because providers' delivery ids are only unique per
    provider hook. Ids never contain whitespace (`contracts.types`), so a space joins the
    parts unambiguously.
    """
    if redelivery < 0:
        raise ValueError("redelivery must be >= 0")
    parts = [webhook_id, event_id, target]
    if redelivery:
        parts.append(f"redelivery:{redelivery}")
    return str(uuid.uuid5(REQUEST_ID_NAMESPACE, " ".join(parts)))
