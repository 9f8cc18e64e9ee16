"""Which of a webhook's triggers an event selects (SPEC RT-10, RT-11)."""

from dataclasses import dataclass

from integrations.contracts import EventFilter, NodeTrigger, PresetTrigger, WebhookState
from integrations.dispatcher.domain.deliveries import SkippedTrigger, TriggerSkipReason
from integrations.dispatcher.domain.request_ids import target_key

Trigger = NodeTrigger | PresetTrigger


def filter_matches(event_filter: EventFilter | None, event_type: str) -> bool:
    """SPEC RT-11: no filter matches every event; a filter matches the event types its
    format yields for every choice set to true."""
    return event_filter is None or event_filter.matches(event_type)


def skip_reason(trigger: Trigger, event_type: str) -> TriggerSkipReason | None:
    # RT-10's order: an inactive preset is skipped before its filter is even looked at.
    if isinstance(trigger, PresetTrigger) and not trigger.is_active:
        return "preset_inactive"
    if not filter_matches(trigger.filter, event_type):
        return "filter_mismatch"
    return None


@dataclass(frozen=True, slots=True)
class Selection:
    matched: tuple[Trigger, ...]
    skipped: tuple[SkippedTrigger, ...]


def select_triggers(webhook: WebhookState, event_type: str) -> Selection:
    """Node triggers first, then presets, each once (a repeated link would repeat its id)."""
    matched: list[Trigger] = []
    skipped: list[SkippedTrigger] = []
    seen: set[str] = set()
    triggers: list[Trigger] = [*webhook.node_triggers, *webhook.preset_triggers]
    for trigger in triggers:
        key = target_key(trigger)
        if key in seen:
            continue
        seen.add(key)
        reason = skip_reason(trigger, event_type)
        if reason is None:
            matched.append(trigger)
        else:
            skipped.append(_skipped(trigger, reason))
    return Selection(matched=tuple(matched), skipped=tuple(skipped))


def _skipped(trigger: Trigger, reason: TriggerSkipReason) -> SkippedTrigger:
    if isinstance(trigger, PresetTrigger):
        return SkippedTrigger(
            graph_id=trigger.graph_id,
            graph_version=trigger.graph_version,
            node_id=trigger.trigger_node_id,
            preset_id=trigger.preset_id,
            reason=reason,
        )
    return SkippedTrigger(
        graph_id=trigger.graph_id,
        graph_version=trigger.graph_version,
        node_id=trigger.node_id,
        reason=reason,
    )
