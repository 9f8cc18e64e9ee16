"""Trigger commands (`trigger-commands`) and their outcomes (`trigger-events`).

The graph service (and the dispatcher, for cleanup) link graph nodes and presets to
webhooks through the credentials service, which owns webhooks (DESIGN §4, SPEC WH-2/WH-3,
RT-9/RT-10). Every event answering a command carries that command's `command_id`.
"""

from typing import ClassVar, Self

from pydantic import Field, model_validator

from integrations.contracts import topics
from integrations.contracts.messages.base import Command, Event
from integrations.contracts.messages.common import CredentialsReference, EventFilter
from integrations.contracts.types import (
    CommandId,
    CredentialsId,
    EventType,
    GraphId,
    GraphVersion,
    HttpUrl,
    JsonObject,
    NodeId,
    PresetId,
    ProviderName,
    Reason,
    Resource,
    UserId,
    WebhookId,
    WebhookType,
)

# --- commands -------------------------------------------------------------------------


class _ActivateTrigger(Command):
    """What identifies a suitable webhook: reused when one matches, else created (WH-2)."""

    user_id: UserId = Field(description="Owner of the graph and of the webhook.")
    provider: ProviderName = Field(description="Provider that will send the events.")
    webhook_type: WebhookType = Field(description="Provider-specific webhook kind.")
    resource: Resource = Field(
        default="", description="Provider resource to watch (e.g. `owner/repo`); may be empty."
    )
    events: list[EventType] = Field(
        description="Events to subscribe to; for manual webhooks, updated in place (WH-3).",
    )
    credentials_id: CredentialsId | None = Field(
        default=None,
        description="Credentials to register the webhook with; required unless manual.",
    )
    manual: bool = Field(
        default=False,
        description="Create a manual webhook: no provider registration; the user pastes the "
        "ingress URL from `TriggerActivated` into the provider.",
    )

    @model_validator(mode="after")
    def _auto_webhooks_need_credentials(self) -> Self:
        if not self.manual and self.credentials_id is None:
            raise ValueError("credentials_id is required unless manual is true")
        return self


class ActivateNodeTrigger(_ActivateTrigger):
    """Link a graph's trigger node to a suitable webhook (found or created)."""

    ce_type: ClassVar[str] = "integrations.node-trigger.activate.v1"
    topic: ClassVar[str] = topics.TRIGGER_COMMANDS

    graph_id: GraphId = Field(description="Graph of the trigger node.")
    graph_version: GraphVersion = Field(description="Version of that graph.")
    node_id: NodeId = Field(description="The trigger node to link.")
    filter: EventFilter | None = Field(
        default=None, description="The node's event filter; null matches every event."
    )


class ActivatePresetTrigger(_ActivateTrigger):
    """Link a preset to a suitable webhook (found or created)."""

    ce_type: ClassVar[str] = "integrations.preset-trigger.activate.v1"
    topic: ClassVar[str] = topics.TRIGGER_COMMANDS

    preset_id: PresetId = Field(description="The preset to link.")
    graph_id: GraphId = Field(description="Graph the preset runs.")
    graph_version: GraphVersion = Field(description="Version of that graph.")
    trigger_node_id: NodeId = Field(description="The graph's webhook input node.")
    is_active: bool = Field(default=True, description="Whether the preset runs on events.")
    inputs: JsonObject = Field(
        default_factory=dict, description="The preset's inputs for the trigger node."
    )
    credentials_inputs: dict[str, CredentialsReference] = Field(
        default_factory=dict, description="The preset's credentials inputs by input name."
    )
    filter: EventFilter | None = Field(
        default=None, description="Event filter from the preset's inputs; null matches all."
    )


class DeactivateNodeTrigger(Command):
    """Unlink a node from its webhook; the webhook is pruned if it has no trigger left."""

    ce_type: ClassVar[str] = "integrations.node-trigger.deactivate.v1"
    topic: ClassVar[str] = topics.TRIGGER_COMMANDS

    user_id: UserId = Field(description="Owner of the graph.")
    graph_id: GraphId = Field(description="Graph of the node.")
    graph_version: GraphVersion = Field(description="Version of that graph.")
    node_id: NodeId = Field(description="The trigger node to unlink.")
    webhook_id: WebhookId | None = Field(
        default=None, description="The node's webhook when the sender knows it (a shortcut)."
    )


class DeactivatePresetTrigger(Command):
    """Deactivate a preset's trigger (`PresetDeactivated`), or unlink it (`unlink=true`)."""

    ce_type: ClassVar[str] = "integrations.preset-trigger.deactivate.v1"
    topic: ClassVar[str] = topics.TRIGGER_COMMANDS

    user_id: UserId = Field(description="Owner of the preset.")
    preset_id: PresetId = Field(description="The preset.")
    webhook_id: WebhookId | None = Field(
        default=None, description="The preset's webhook when the sender knows it."
    )
    unlink: bool = Field(
        default=False,
        description="False: mark the preset inactive and keep the link (it can be "
        "re-activated). True: remove the link, pruning the webhook if it was the last trigger.",
    )
    reason: Reason = Field(
        description="Why (e.g. `graph_not_accessible`, `no_webhook_input_node`, `user_request`).",
    )


class UnlinkGraphTriggers(Command):
    """Unlink every node and preset trigger of a graph (e.g. the graph left the library)."""

    ce_type: ClassVar[str] = "integrations.graph-triggers.unlink.v1"
    topic: ClassVar[str] = topics.TRIGGER_COMMANDS

    user_id: UserId = Field(description="Owner of the graph.")
    graph_id: GraphId = Field(description="The graph whose triggers go.")
    webhook_id: WebhookId | None = Field(
        default=None,
        description="Only unlink triggers on this webhook; null: on every webhook of the user.",
    )
    reason: Reason = Field(description="Why (e.g. `graph_not_in_library`).")


# --- events ---------------------------------------------------------------------------


class _TriggerEvent(Event):
    user_id: UserId = Field(description="Owner of the trigger.")
    command_id: CommandId | None = Field(
        default=None,
        description="The command this answers; null when caused otherwise (e.g. credentials "
        "deletion).",
    )


class TriggerActivated(_TriggerEvent):
    """A node or preset is linked to a webhook and will receive its events."""

    ce_type: ClassVar[str] = "integrations.trigger.activated.v1"
    topic: ClassVar[str] = topics.TRIGGER_EVENTS

    webhook_id: WebhookId = Field(description="The webhook the trigger is linked to.")
    ingress_url: HttpUrl = Field(
        description="Where the provider sends events; show it to the user for manual webhooks."
    )
    provider: ProviderName = Field(description="Provider of the webhook.")
    graph_id: GraphId = Field(description="Graph of the trigger.")
    graph_version: GraphVersion = Field(description="Version of that graph.")
    node_id: NodeId | None = Field(default=None, description="The node, for node triggers.")
    preset_id: PresetId | None = Field(default=None, description="The preset, for preset triggers.")
    manual: bool = Field(description="Whether the webhook is manual.")
    new_webhook: bool = Field(
        description="True when a webhook was created, false when an existing one was reused."
    )


class TriggerDeactivated(_TriggerEvent):
    """A node or preset was unlinked from its webhook."""

    ce_type: ClassVar[str] = "integrations.trigger.deactivated.v1"
    topic: ClassVar[str] = topics.TRIGGER_EVENTS

    webhook_id: WebhookId = Field(description="The webhook the trigger was linked to.")
    graph_id: GraphId = Field(description="Graph of the trigger.")
    node_id: NodeId | None = Field(default=None, description="The node, for node triggers.")
    preset_id: PresetId | None = Field(default=None, description="The preset, for preset triggers.")
    reason: Reason = Field(description="Why it was unlinked.")


class PresetDeactivated(_TriggerEvent):
    """A preset was marked inactive; it stays linked but is skipped on events."""

    ce_type: ClassVar[str] = "integrations.preset.deactivated.v1"
    topic: ClassVar[str] = topics.TRIGGER_EVENTS

    preset_id: PresetId = Field(description="The preset, now inactive (still linked).")
    graph_id: GraphId = Field(description="Graph the preset runs.")
    webhook_id: WebhookId | None = Field(
        default=None, description="The preset's webhook, if linked."
    )
    reason: Reason = Field(description="Why (e.g. `graph_not_accessible`).")


class WebhookPruned(_TriggerEvent):
    """A webhook lost its last trigger and was deleted (and deregistered)."""

    ce_type: ClassVar[str] = "integrations.webhook.pruned.v1"
    topic: ClassVar[str] = topics.TRIGGER_EVENTS

    webhook_id: WebhookId = Field(description="The deleted webhook.")
    provider: ProviderName = Field(description="Provider of the webhook.")
    deregistered: bool | None = Field(
        default=None,
        description="Whether the provider registration was removed; null when there was "
        "nothing to deregister (manual webhook, or credentials gone).",
    )


class TriggerActivationFailed(_TriggerEvent):
    """An activation command could not be carried out."""

    ce_type: ClassVar[str] = "integrations.trigger.activation-failed.v1"
    topic: ClassVar[str] = topics.TRIGGER_EVENTS

    provider: ProviderName = Field(description="Provider of the requested webhook.")
    graph_id: GraphId = Field(description="Graph of the trigger.")
    node_id: NodeId | None = Field(default=None, description="The node, for node triggers.")
    preset_id: PresetId | None = Field(default=None, description="The preset, for preset triggers.")
    error_code: str = Field(
        max_length=64,
        description="Machine-readable cause (e.g. `credentials_not_found`, "
        "`provider_not_supported`, `not_configured`, `provider_error`); open-ended.",
    )
    reason: Reason = Field(description="Human-readable cause, safe to show the user.")
