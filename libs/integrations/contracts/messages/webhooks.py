"""Webhook deliveries (`webhook-events`) and webhook state (`webhooks`, compacted)."""

from typing import ClassVar

from pydantic import Field, field_validator

from integrations.contracts import topics
from integrations.contracts.messages.base import Event, Part
from integrations.contracts.messages.common import CredentialsReference, EventFilter
from integrations.contracts.types import (
    Ciphertext,
    CredentialsId,
    EventId,
    EventType,
    GraphId,
    GraphVersion,
    HttpUrl,
    JsonObject,
    NodeId,
    PresetId,
    ProviderName,
    Resource,
    UserId,
    UtcDateTime,
    WebhookId,
    WebhookType,
)


class WebhookEventReceived(Event):
    """A verified webhook delivery, published by ingress before it answers the provider."""

    ce_type: ClassVar[str] = "integrations.webhook-event.received.v1"
    topic: ClassVar[str] = topics.WEBHOOK_EVENTS

    event_id: EventId = Field(
        description="The provider's delivery id when it sends one (so its retries dedupe), "
        "else a uuid4 chosen by ingress.",
    )
    provider: ProviderName = Field(description="Provider that sent the webhook.")
    webhook_id: WebhookId = Field(description="Our id of the webhook that received it.")
    user_id: UserId = Field(description="Owner of the webhook.")
    event_type: EventType = Field(
        description="Event type derived by the provider's validator (e.g. "
        "`pull_request.opened`, `ping`).",
    )
    payload: JsonObject = Field(description="The parsed, signature-verified request body.")
    received_at: UtcDateTime = Field(description="When ingress received the request (UTC).")
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="Delivery headers worth keeping (delivery id, event name, user agent), "
        "names lowercased; never signatures or authorization headers.",
    )

    @field_validator("headers")
    @classmethod
    def _lowercase_header_names(cls, headers: dict[str, str]) -> dict[str, str]:
        # HTTP header names are case-insensitive; one spelling spares every consumer a guess.
        return {name.lower(): value for name, value in headers.items()}


class NodeTrigger(Part):
    """A graph node triggered by a webhook."""

    node_id: NodeId = Field(description="The trigger node.")
    graph_id: GraphId = Field(description="Graph the node belongs to.")
    graph_version: GraphVersion = Field(description="Version of that graph.")
    filter: EventFilter | None = Field(
        default=None, description="The node's event filter; null matches every event."
    )


class PresetTrigger(Part):
    """A preset (a graph saved with inputs) triggered by a webhook."""

    preset_id: PresetId = Field(description="The preset.")
    graph_id: GraphId = Field(description="Graph the preset runs.")
    graph_version: GraphVersion = Field(description="Version of that graph.")
    trigger_node_id: NodeId = Field(
        description="The graph's webhook input node, which receives the payload.",
    )
    is_active: bool = Field(description="Inactive presets are skipped (SPEC RT-10).")
    inputs: JsonObject = Field(
        default_factory=dict,
        description="The preset's inputs for the trigger node; the payload is added to them.",
    )
    credentials_inputs: dict[str, CredentialsReference] = Field(
        default_factory=dict,
        description="The preset's credentials inputs by input name (references, no secrets).",
    )
    filter: EventFilter | None = Field(
        default=None,
        description="Event filter resolved from the preset's inputs; null matches every event.",
    )


class WebhookState(Event):
    """The full current state of one webhook; the latest record per key wins.

    Deletion is a tombstone (null value) on the compacted topic, not a message.
    """

    ce_type: ClassVar[str] = "integrations.webhook.state.v1"
    topic: ClassVar[str] = topics.WEBHOOKS

    webhook_id: WebhookId = Field(description="Our id of the webhook.")
    user_id: UserId = Field(description="Owner of the webhook.")
    provider: ProviderName = Field(description="Provider that sends to it.")
    credentials_id: CredentialsId | None = Field(
        default=None,
        description="Credentials used to register it at the provider; null for manual ones.",
    )
    webhook_type: WebhookType = Field(description="Provider-specific webhook kind (e.g. `repo`).")
    resource: Resource = Field(
        description="Provider resource it watches (e.g. `owner/repo`); empty if none.",
    )
    events: list[EventType] = Field(description="Events it is subscribed to at the provider.")
    config: JsonObject = Field(
        default_factory=dict,
        description="Provider-side configuration returned on registration (no secrets).",
    )
    secret_ciphertext: Ciphertext = Field(
        repr=False,
        description="The signing secret, encrypted with the webhook-secret key (the only key "
        "ingress holds). Never plaintext.",
    )
    provider_webhook_id: str = Field(
        max_length=256,
        description="The provider's id of the registration; empty for manual webhooks.",
    )
    manual: bool = Field(
        description="True when the user pastes the ingress URL into the provider by hand.",
    )
    ingress_url: HttpUrl = Field(description="Where the provider must POST deliveries.")
    node_triggers: list[NodeTrigger] = Field(
        default_factory=list, description="Graph nodes it triggers."
    )
    preset_triggers: list[PresetTrigger] = Field(
        default_factory=list, description="Presets it triggers."
    )
    version: int = Field(
        ge=1,
        description="Increases with every change; views ignore a state older than theirs.",
    )
    updated_at: UtcDateTime = Field(description="When this state was written (UTC).")
