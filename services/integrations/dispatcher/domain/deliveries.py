"""The delivery log's model: what the dispatcher did with each webhook event.

A `Delivery` is one event of one webhook; each time it is dispatched (the automatic
dispatch, a DLQ replay, a user's redelivery) a `Dispatch` is appended.
"""

from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from integrations.contracts import GraphExecutionRequested, WebhookEventReceived

# A delivery keeps its latest dispatches only: redelivering cannot grow a record forever.
MAX_DISPATCHES_KEPT: Final = 20


class Outcome(StrEnum):
    DISPATCHED = "dispatched"
    """At least one execution request was acknowledged by the broker, none failed."""
    SKIPPED = "skipped"
    """Nothing to send: no trigger matched, or the webhook is unknown."""
    DEAD_LETTERED = "dead_lettered"
    """Given up; the record is on the dead-letter topic for an operator to replay."""
    FAILED = "failed"
    """A user's redelivery in which the broker refused some request for good."""


TriggerSkipReason = Literal["filter_mismatch", "preset_inactive"]
EventSkipReason = Literal["webhook_unknown", "no_triggers", "no_match"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Target(_Frozen):
    """A node or preset trigger, as the log shows it."""

    graph_id: str
    graph_version: int
    node_id: str = Field(description="The trigger node (a preset's trigger node for presets).")
    preset_id: str | None = None


class DispatchedRequest(Target):
    request_id: str


class SkippedTrigger(Target):
    reason: TriggerSkipReason


class FailedTarget(Target):
    request_id: str
    error: str


class Dispatch(_Frozen):
    redelivery: int = Field(ge=0, description="0: automatic; n: the user's n-th redelivery.")
    dispatched_at: datetime
    outcome: Outcome
    requests: tuple[DispatchedRequest, ...] = ()
    skipped: tuple[SkippedTrigger, ...] = ()
    failed: tuple[FailedTarget, ...] = ()
    skip_reason: EventSkipReason | None = Field(
        default=None, description="Why nothing was sent, when the outcome is `skipped`."
    )
    error: str | None = Field(default=None, description="Why it was dead-lettered or failed.")
    attempts: int = Field(default=1, ge=1)


class Delivery(_Frozen):
    webhook_id: str
    event_id: str
    user_id: str
    provider: str
    event_type: str
    received_at: datetime
    dispatches: tuple[Dispatch, ...] = Field(description="Oldest first, the latest few only.")
    redeliveries: int = Field(default=0, ge=0, description="Highest redelivery number used.")
    event: WebhookEventReceived | None = Field(
        default=None, description="The event as received, unless too large to keep."
    )

    @property
    def outcome(self) -> Outcome:
        return self.dispatches[-1].outcome

    @property
    def last_dispatch(self) -> Dispatch:
        return self.dispatches[-1]

    def with_dispatch(self, dispatch: Dispatch) -> "Delivery":
        return self.model_copy(
            update={
                "dispatches": (*self.dispatches, dispatch)[-MAX_DISPATCHES_KEPT:],
                "redeliveries": max(self.redeliveries, dispatch.redelivery),
            }
        )


def target_of(request: GraphExecutionRequested) -> Target:
    return Target(
        graph_id=request.graph_id,
        graph_version=request.graph_version,
        node_id=request.source.node_id,
        preset_id=request.preset_id,
    )


def new_delivery(event: WebhookEventReceived, dispatch: Dispatch, *, keep_event: bool) -> Delivery:
    return Delivery(
        webhook_id=event.webhook_id,
        event_id=event.event_id,
        user_id=event.user_id,
        provider=event.provider,
        event_type=event.event_type,
        received_at=event.received_at,
        dispatches=(dispatch,),
        redeliveries=dispatch.redelivery,
        event=event if keep_event else None,
    )


def settle(
    requests: tuple[GraphExecutionRequested, ...],
    skipped: tuple[SkippedTrigger, ...],
    skip_reason: EventSkipReason | None,
    *,
    failures: Mapping[str, str],
    redelivery: int,
    at: datetime,
    attempts: int = 1,
    error: str | None = None,
) -> Dispatch:
    """The dispatch record of a plan once publishing is over.

    `failures` maps request ids that were not acknowledged to their error; `error` is set
    when the whole event was given up (dead-lettered) for another reason.
    """
    sent = tuple(
        DispatchedRequest(**target_of(r).model_dump(), request_id=r.request_id)
        for r in requests
        if r.request_id not in failures
    )
    failed = tuple(
        FailedTarget(
            **target_of(r).model_dump(), request_id=r.request_id, error=failures[r.request_id]
        )
        for r in requests
        if r.request_id in failures
    )
    if failed or error is not None:
        outcome = Outcome.DEAD_LETTERED if redelivery == 0 else Outcome.FAILED
    elif sent:
        outcome = Outcome.DISPATCHED
    else:
        outcome = Outcome.SKIPPED
    return Dispatch(
        redelivery=redelivery,
        dispatched_at=at,
        outcome=outcome,
        requests=sent,
        skipped=skipped,
        failed=failed,
        skip_reason=skip_reason if outcome is Outcome.SKIPPED else None,
        error=error,
        attempts=attempts,
    )
