"""The execution requests one webhook event causes (DESIGN §4 Dispatch, SPEC RT-9/RT-10)."""

from dataclasses import dataclass

from integrations.contracts import (
    ExecutionSource,
    GraphExecutionRequested,
    NodeTrigger,
    PresetTrigger,
    WebhookEventReceived,
    WebhookState,
)
from integrations.dispatcher.domain.deliveries import EventSkipReason, SkippedTrigger
from integrations.dispatcher.domain.matching import Trigger, select_triggers
from integrations.dispatcher.domain.request_ids import request_id, target_key


@dataclass(frozen=True, slots=True)
class DispatchPlan:
    requests: tuple[GraphExecutionRequested, ...]
    skipped: tuple[SkippedTrigger, ...] = ()
    # Set when there is nothing to send, to say why.
    skip_reason: EventSkipReason | None = None


def plan_dispatch(
    event: WebhookEventReceived, webhook: WebhookState | None, *, redelivery: int = 0
) -> DispatchPlan:
    """One request per matching trigger of `webhook` (the view's current state).

    A webhook that is missing, or whose owner is not the event's user, is not this event's
    webhook: nothing is sent, rather than run someone else's graphs.
    """
    if webhook is None or webhook.user_id != event.user_id:
        return DispatchPlan(requests=(), skip_reason="webhook_unknown")
    if not webhook.node_triggers and not webhook.preset_triggers:
        return DispatchPlan(requests=(), skip_reason="no_triggers")
    selection = select_triggers(webhook, event.event_type)
    requests = tuple(execution_request(event, t, redelivery=redelivery) for t in selection.matched)
    return DispatchPlan(
        requests=requests,
        skipped=selection.skipped,
        skip_reason=None if requests else "no_match",
    )


def execution_request(
    event: WebhookEventReceived, trigger: Trigger, *, redelivery: int = 0
) -> GraphExecutionRequested:
    if isinstance(trigger, PresetTrigger):
        return _preset_request(event, trigger, redelivery)
    return _node_request(event, trigger, redelivery)


def _node_request(
    event: WebhookEventReceived, trigger: NodeTrigger, redelivery: int
) -> GraphExecutionRequested:
    return GraphExecutionRequested(
        request_id=_request_id(event, trigger, redelivery),
        user_id=event.user_id,
        graph_id=trigger.graph_id,
        graph_version=trigger.graph_version,
        nodes_input_masks={trigger.node_id: {"payload": event.payload}},
        source=_source(event, trigger.node_id),
        redelivery=redelivery,
    )


def _preset_request(
    event: WebhookEventReceived, trigger: PresetTrigger, redelivery: int
) -> GraphExecutionRequested:
    return GraphExecutionRequested(
        request_id=_request_id(event, trigger, redelivery),
        user_id=event.user_id,
        graph_id=trigger.graph_id,
        graph_version=trigger.graph_version,
        preset_id=trigger.preset_id,
        # The payload wins over a preset input of the same name: it is what this run is for.
        nodes_input_masks={trigger.trigger_node_id: {**trigger.inputs, "payload": event.payload}},
        credentials_inputs=trigger.credentials_inputs,
        source=_source(event, trigger.trigger_node_id),
        redelivery=redelivery,
    )


def _request_id(event: WebhookEventReceived, trigger: Trigger, redelivery: int) -> str:
    return request_id(
        webhook_id=event.webhook_id,
        event_id=event.event_id,
        target=target_key(trigger),
        redelivery=redelivery,
    )


def _source(event: WebhookEventReceived, node_id: str) -> ExecutionSource:
    return ExecutionSource(
        webhook_id=event.webhook_id,
        provider=event.provider,
        event_id=event.event_id,
        event_type=event.event_type,
        node_id=node_id,
    )
