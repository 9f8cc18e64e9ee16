"""Webhooks and their trigger links (SPEC WH-1..WH-4): the model and its rules, no I/O.

A webhook is found again by its `dedupe_key`, one indexed scalar that a unique index guards:

- auto webhooks (WH-2): a hash of user, provider, credentials, type, resource and the set
  of events, so "a suitable webhook" is one lookup and concurrent activations agree on one;
- manual webhooks (WH-3): a hash of user, provider, type and the graph or preset they were
  made for, so that graph/preset gets the same webhook (and ingress URL) back when its
  events change.

Its `status` is `active` except while one worker registers it with the provider (`pending`)
or deregisters it (`pruning`); only active webhooks are linked to, published and answered.
"""

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal
from urllib.parse import quote

from pydantic import SecretStr

from integrations.contracts import (
    ActivateNodeTrigger,
    ActivatePresetTrigger,
    NodeTrigger,
    PresetTrigger,
)
from integrations.providers import WebhookRegistration

Status = Literal["pending", "active", "pruning"]
Trigger = NodeTrigger | PresetTrigger
TriggerKey = tuple[Literal["node", "preset"], str]
TriggerTest = Callable[[Trigger], bool]
INGRESS_PATH = "/api/integrations/{provider}/webhooks/{webhook_id}/ingress"


class WebhooksNotConfigured(Exception):
    """WH-1/WH-2: ingress URLs cannot be built without the platform's base URL."""

    def __init__(self) -> None:
        super().__init__("Webhooks are not configured: set PLATFORM_BASE_URL.")


class ActivationFailed(Exception):
    """A trigger could not be activated; `reason` is safe to show the user."""

    def __init__(self, error_code: str, reason: str) -> None:
        super().__init__(reason)
        self.error_code = error_code
        self.reason = reason


class WebhookNotFound(LookupError):
    def __init__(self) -> None:
        # One message for every cause: another user's webhook must look like a missing one.
        super().__init__("Webhook not found.")


def check_configured(platform_base_url: str) -> str:
    """The base of ingress URLs; `WebhooksNotConfigured` when there is none."""
    base = platform_base_url.strip().rstrip("/")
    if not base:
        raise WebhooksNotConfigured()
    return base


def ingress_url(platform_base_url: str, provider: str, webhook_id: str) -> str:
    """WH-1: where the provider POSTs deliveries."""
    base = check_configured(platform_base_url)
    path = INGRESS_PATH.format(
        provider=quote(provider, safe=""), webhook_id=quote(webhook_id, safe="")
    )
    return base + path


def normalized_events(events: Iterable[str]) -> tuple[str, ...]:
    """Events as a set: order and repetition never make two webhooks differ."""
    return tuple(sorted(set(events)))


def _digest(*parts: object) -> str:
    canonical = json.dumps(parts, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def auto_dedupe_key(
    *,
    user_id: str,
    provider: str,
    credentials_id: str,
    webhook_type: str,
    resource: str,
    events: Iterable[str],
) -> str:
    events_set = list(normalized_events(events))
    return "auto:" + _digest(user_id, provider, credentials_id, webhook_type, resource, events_set)


def manual_dedupe_key(*, user_id: str, provider: str, webhook_type: str, owner: TriggerKey) -> str:
    """Manual webhooks belong to the graph (node triggers) or preset they were made for."""
    kind, owner_id = owner
    return "manual:" + _digest(user_id, provider, webhook_type, kind, owner_id)


def key_of(trigger: Trigger) -> TriggerKey:
    if isinstance(trigger, NodeTrigger):
        return ("node", trigger.node_id)
    return ("preset", trigger.preset_id)


@dataclass(frozen=True, kw_only=True)
class Webhook:
    """SPEC WH-1. Field names follow `WebhookRef`, so provider managers read it directly."""

    id: str
    user_id: str
    provider: str
    credentials_id: str | None
    webhook_type: str
    resource: str
    events: tuple[str, ...]
    config: Mapping[str, Any] = field(default_factory=dict)
    secret: SecretStr
    provider_webhook_id: str = ""
    manual: bool
    dedupe_key: str
    status: Status = "active"
    node_triggers: tuple[NodeTrigger, ...] = ()
    preset_triggers: tuple[PresetTrigger, ...] = ()
    # Optimistic concurrency: the version this copy was read at (see the repository).
    version: int = 1
    created_at: float = 0.0
    updated_at: float = 0.0

    @property
    def is_active(self) -> bool:
        return self.status == "active"

    @property
    def triggers(self) -> tuple[Trigger, ...]:
        return (*self.node_triggers, *self.preset_triggers)

    @property
    def has_triggers(self) -> bool:
        return bool(self.node_triggers or self.preset_triggers)

    def trigger(self, key: TriggerKey) -> Trigger | None:
        return next((t for t in self.triggers if key_of(t) == key), None)

    def with_trigger(self, trigger: Trigger) -> "Webhook":
        """Linked to `trigger`, replacing an earlier link of the same node or preset."""
        unlinked = self.without(key_of(trigger))
        if isinstance(trigger, NodeTrigger):
            return replace(unlinked, node_triggers=(*unlinked.node_triggers, trigger))
        return replace(unlinked, preset_triggers=(*unlinked.preset_triggers, trigger))

    def without(self, key: TriggerKey) -> "Webhook":
        return self.without_triggers(lambda t: key_of(t) == key)

    def without_graph(self, graph_id: str) -> "Webhook":
        return self.without_triggers(lambda t: t.graph_id == graph_id)

    def without_triggers(self, doomed: TriggerTest = lambda _: True) -> "Webhook":
        return replace(
            self,
            node_triggers=tuple(t for t in self.node_triggers if not doomed(t)),
            preset_triggers=tuple(t for t in self.preset_triggers if not doomed(t)),
        )

    def removed_from(self, before: "Webhook") -> tuple[Trigger, ...]:
        """The triggers `before` had that this copy no longer has."""
        kept = {key_of(t) for t in self.triggers}
        return tuple(t for t in before.triggers if key_of(t) not in kept)

    def with_preset_inactive(self, preset_id: str) -> "Webhook":
        return replace(
            self,
            preset_triggers=tuple(
                t.model_copy(update={"is_active": False}) if t.preset_id == preset_id else t
                for t in self.preset_triggers
            ),
        )

    def with_events(self, events: Iterable[str]) -> "Webhook":
        return replace(self, events=normalized_events(events))

    def registered_with(self, registration: WebhookRegistration) -> "Webhook":
        return replace(
            self,
            provider_webhook_id=registration.provider_webhook_id,
            config=dict(registration.config),
            status="active",
        )

    def with_status(self, status: Status) -> "Webhook":
        return replace(self, status=status)

    def is_stale(self, now: float, *, after_s: float) -> bool:
        """A pending or pruning webhook whose worker has not finished in time (crashed)."""
        return not self.is_active and now - self.updated_at > after_s


@dataclass(frozen=True, kw_only=True)
class ActivationRequest:
    """What an activation command asks for, whichever kind of trigger it links."""

    user_id: str
    provider: str
    webhook_type: str
    resource: str
    events: tuple[str, ...]
    credentials_id: str | None
    manual: bool
    trigger: Trigger

    @property
    def graph_id(self) -> str:
        return self.trigger.graph_id

    @property
    def owner(self) -> TriggerKey:
        """What a manual webhook belongs to: the node's graph, or the preset."""
        if isinstance(self.trigger, NodeTrigger):
            return ("node", self.trigger.graph_id)
        return ("preset", self.trigger.preset_id)

    def dedupe_key(self) -> str:
        if self.manual:
            return manual_dedupe_key(
                user_id=self.user_id,
                provider=self.provider,
                webhook_type=self.webhook_type,
                owner=self.owner,
            )
        assert self.credentials_id is not None  # the command's validator requires it
        return auto_dedupe_key(
            user_id=self.user_id,
            provider=self.provider,
            credentials_id=self.credentials_id,
            webhook_type=self.webhook_type,
            resource=self.resource,
            events=self.events,
        )


def activation_request(command: ActivateNodeTrigger | ActivatePresetTrigger) -> ActivationRequest:
    trigger: Trigger
    if isinstance(command, ActivateNodeTrigger):
        trigger = NodeTrigger(
            node_id=command.node_id,
            graph_id=command.graph_id,
            graph_version=command.graph_version,
            filter=command.filter,
        )
    else:
        trigger = PresetTrigger(
            preset_id=command.preset_id,
            graph_id=command.graph_id,
            graph_version=command.graph_version,
            trigger_node_id=command.trigger_node_id,
            is_active=command.is_active,
            inputs=command.inputs,
            credentials_inputs=command.credentials_inputs,
            filter=command.filter,
        )
    return ActivationRequest(
        user_id=command.user_id,
        provider=command.provider,
        webhook_type=command.webhook_type,
        resource=command.resource,
        events=normalized_events(command.events),
        # A manual webhook is reused by owner; credentials never make it another one.
        credentials_id=command.credentials_id,
        manual=command.manual,
        trigger=trigger,
    )


def new_webhook(
    request: ActivationRequest,
    *,
    webhook_id: str,
    secret: SecretStr,
    now: float,
) -> Webhook:
    """Manual webhooks are complete at once (WH-3); auto ones start `pending`, unlinked, and
    are linked when their registration is stored (WH-2)."""
    created = Webhook(
        id=webhook_id,
        user_id=request.user_id,
        provider=request.provider,
        credentials_id=request.credentials_id,
        webhook_type=request.webhook_type,
        resource=request.resource,
        events=request.events,
        config={},
        secret=secret,
        provider_webhook_id="",
        manual=request.manual,
        dedupe_key=request.dedupe_key(),
        status="active" if request.manual else "pending",
        version=1,
        created_at=now,
        updated_at=now,
    )
    return created.with_trigger(request.trigger) if request.manual else created


def check_webhook_type(webhook_type: str, allowed: Sequence[str]) -> None:
    if allowed and webhook_type not in allowed:
        raise ActivationFailed(
            "unsupported_webhook_type",
            f"Webhook type {webhook_type!r} is not one of: {', '.join(allowed)}.",
        )
