"""Answers of the internal trigger routes (and of `integrations triggers`)."""

from pydantic import BaseModel, ConfigDict, Field

from integrations.contracts import NodeTrigger, PresetTrigger, WebhookState
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_events import ingress_url_of
from integrations.credentials.webhook_handlers import Activation, Unlinked


class ActivationAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    webhook_id: str = Field(description="The webhook the trigger is linked to.")
    ingress_url: str = Field(description="Where the provider sends events.")
    provider: str
    manual: bool = Field(description="True: paste `ingress_url` into the provider by hand.")
    new_webhook: bool = Field(description="False when an existing webhook was reused.")


class WebhookSummary(BaseModel):
    """A webhook as `integrations triggers list` shows it: its state without the sealed
    secret (nobody but ingress has a use for it)."""

    model_config = ConfigDict(frozen=True)

    webhook_id: str
    provider: str
    webhook_type: str
    resource: str
    events: list[str]
    manual: bool
    credentials_id: str | None
    provider_webhook_id: str
    ingress_url: str
    node_triggers: list[NodeTrigger]
    preset_triggers: list[PresetTrigger]
    version: int


def summary(state: WebhookState) -> WebhookSummary:
    return WebhookSummary.model_validate(state.model_dump(exclude={"secret_ciphertext"}))


class UnlinkedTrigger(BaseModel):
    model_config = ConfigDict(frozen=True)

    graph_id: str
    node_id: str | None = None
    preset_id: str | None = None


class ChangedWebhook(BaseModel):
    model_config = ConfigDict(frozen=True)

    webhook_id: str
    unlinked: list[UnlinkedTrigger] = Field(
        description="Triggers removed (none when a preset was only marked inactive)."
    )
    pruned: bool = Field(description="Whether the webhook lost its last trigger and went.")


class DeactivationAnswer(BaseModel):
    model_config = ConfigDict(frozen=True)

    webhooks: list[ChangedWebhook] = Field(description="Empty when nothing was linked.")


def activation_answer(activation: Activation, ctx: WebhookContext) -> ActivationAnswer:
    webhook = activation.webhook
    return ActivationAnswer(
        webhook_id=webhook.id,
        ingress_url=ingress_url_of(webhook, ctx),
        provider=webhook.provider,
        manual=webhook.manual,
        new_webhook=activation.new_webhook,
    )


def deactivation_answer(outcomes: list[Unlinked]) -> DeactivationAnswer:
    return DeactivationAnswer(
        webhooks=[
            ChangedWebhook(
                webhook_id=outcome.webhook_id,
                unlinked=[
                    UnlinkedTrigger(graph_id=t.graph_id, node_id=t.node_id)
                    if isinstance(t, NodeTrigger)
                    else UnlinkedTrigger(graph_id=t.graph_id, preset_id=t.preset_id)
                    for t in outcome.triggers
                ],
                pruned=outcome.pruned,
            )
            for outcome in outcomes
        ]
    )
