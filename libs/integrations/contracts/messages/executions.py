"""Execution requests to the platform's executor and its rejections (`platform.*` topics)."""

from typing import Any, ClassVar, Final, Literal, get_args

from pydantic import Field, model_validator

from integrations.contracts import topics
from integrations.contracts.messages.base import Event, Part
from integrations.contracts.messages.common import CredentialsReference
from integrations.contracts.types import (
    EventId,
    EventType,
    GraphId,
    GraphVersion,
    JsonObject,
    NodeId,
    PresetId,
    ProviderName,
    Reason,
    RequestId,
    UserId,
    WebhookId,
)


class ExecutionSource(Part):
    """The webhook delivery and trigger that caused an execution request."""

    webhook_id: WebhookId = Field(description="Webhook that received the event.")
    provider: ProviderName = Field(description="Provider that sent the event.")
    event_id: EventId = Field(description="The `WebhookEventReceived.event_id`.")
    event_type: EventType = Field(description="The event's type.")
    node_id: NodeId = Field(
        description="The trigger node (a node trigger's node, or a preset's trigger node)."
    )


class GraphExecutionRequested(Event):
    """A webhook event matched a trigger, so its graph should run; the executor may reject it."""

    ce_type: ClassVar[str] = "platform.graph-execution.requested.v1"
    topic: ClassVar[str] = topics.GRAPH_EXECUTION_REQUESTS

    request_id: RequestId = Field(
        description="Deterministic (uuid5 of event id, target and redelivery), so a "
        "re-published request is recognised as the same one by the executor.",
    )
    user_id: UserId = Field(description="User the graph runs as.")
    graph_id: GraphId = Field(description="Graph to execute.")
    graph_version: GraphVersion = Field(description="Version of that graph.")
    preset_id: PresetId | None = Field(
        default=None, description="The preset, when a preset trigger matched."
    )
    nodes_input_masks: dict[NodeId, JsonObject] = Field(
        description='Inputs by node id: `{node_id: {"payload": payload}}`, or for presets '
        '`{trigger_node_id: {**preset.inputs, "payload": payload}}`.',
    )
    credentials_inputs: dict[str, CredentialsReference] = Field(
        default_factory=dict,
        description="The graph's credentials inputs by input name (a preset's; else empty).",
    )
    source: ExecutionSource = Field(description="What caused this request.")
    redelivery: int = Field(
        default=0,
        ge=0,
        description="0 for the original delivery; n for the user's n-th redelivery of it.",
    )


RejectionReason = Literal["graph_not_in_library", "graph_not_accessible", "unknown"]
KNOWN_REJECTION_REASONS: Final[frozenset[str]] = frozenset(get_args(RejectionReason))


class GraphExecutionRejected(Event):
    """The executor refused a request. It is another team's event, so a reason this version
    does not know reads as `unknown` (kept verbatim in `unrecognised_reason`) instead of
    failing the record."""

    ce_type: ClassVar[str] = "platform.graph-execution.rejected.v1"
    topic: ClassVar[str] = topics.GRAPH_EXECUTION_RESULTS

    request_id: RequestId = Field(description="The rejected `GraphExecutionRequested`.")
    user_id: UserId = Field(description="User the graph would have run as.")
    graph_id: GraphId = Field(description="The graph.")
    graph_version: GraphVersion | None = Field(default=None, description="Its version.")
    preset_id: PresetId | None = Field(default=None, description="The preset, if any.")
    source: ExecutionSource = Field(description="Echo of the request's source.")
    reason: RejectionReason = Field(
        description="`graph_not_in_library` (deleted/archived: unlink the graph's triggers), "
        "`graph_not_accessible` (deactivate the preset), or `unknown`.",
    )
    unrecognised_reason: str | None = Field(
        default=None,
        max_length=256,
        description="The executor's reason when it is not one of the known values.",
    )
    detail: Reason | None = Field(default=None, description="Human-readable explanation.")

    @model_validator(mode="before")
    @classmethod
    def _read_unknown_reasons_as_unknown(cls, data: Any) -> Any:
        if isinstance(data, dict):
            reason = data.get("reason")
            if isinstance(reason, str) and reason not in KNOWN_REJECTION_REASONS:
                return {**data, "reason": "unknown", "unrecognised_reason": reason[:256]}
        return data
