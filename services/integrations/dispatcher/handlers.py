"""The dispatcher's verbs (DESIGN §4 Dispatch)."""

import logging
import time

from opentelemetry.trace import SpanKind

from integrations.bus import PublishRejected, Record
from integrations.contracts import (
    DecodeError,
    GraphExecutionRejected,
    InvalidMessage,
    UnknownMessageType,
    WebhookEventReceived,
    decode,
    topics,
)
from integrations.dispatcher.adapters.dead_letters import send_to_dead_letters
from integrations.dispatcher.context import SOURCE, Dispatcher, parent_context
from integrations.dispatcher.domain.deliveries import Dispatch, settle
from integrations.dispatcher.domain.errors import EventNotKept
from integrations.dispatcher.domain.fan_out import plan_dispatch
from integrations.dispatcher.domain.rejections import trigger_command_for
from integrations.dispatcher.event_run import EventRun
from integrations.dispatcher.publishing import describe, publish_requests
from integrations.dispatcher.views import get_delivery

log = logging.getLogger(__name__)


async def dispatch_event(record: Record, d: Dispatcher) -> None:
    """Handle one `webhook-events` record until it may be committed: dispatched, skipped or
    dead-lettered. Raises only when not even the dead letter was acknowledged."""
    started = time.perf_counter()
    d.metrics.consumed(lag_s=d.clock().timestamp() - record.timestamp_ms / 1000)
    try:
        with d.tracer.start_as_current_span(
            "dispatch webhook event", context=parent_context(record), kind=SpanKind.CONSUMER
        ) as span:
            try:
                event = decode(record.headers, record.value)
                if not isinstance(event, WebhookEventReceived):
                    raise UnknownMessageType(event.ce_type)
            except DecodeError as error:  # no retry can fix what is not a valid event
                await _dead_letter_invalid(record, error, d)
                return
            span.set_attribute("webhook.id", event.webhook_id)
            span.set_attribute("webhook.event_id", event.event_id)
            span.set_attribute("webhook.event_type", event.event_type)
            await EventRun(record, event, d).run()
    finally:
        d.metrics.processed(time.perf_counter() - started)


async def _dead_letter_invalid(record: Record, error: DecodeError, d: Dispatcher) -> None:
    letter = await send_to_dead_letters(
        d.bus,
        record,
        error,
        attempts=1,
        consumer_group=d.policy.consumer_group,
        source=SOURCE,
        now=d.clock(),
    )
    d.metrics.dead_lettered(letter.error_type)
    log.warning(
        "dead-lettered the invalid record %s:%s: %s", record.partition, record.offset, error
    )


async def handle_execution_result(record: Record, d: Dispatcher) -> None:
    """SPEC RT-9/RT-10: an executor rejection becomes a trigger command; other results on
    the topic are not the dispatcher's business."""
    try:
        result = decode(record.headers, record.value)
    except UnknownMessageType:
        return
    except InvalidMessage as error:
        log.error(
            "ignoring an invalid execution result at %s:%s: %s",
            record.partition,
            record.offset,
            error,
        )
        return
    command = trigger_command_for(result) if isinstance(result, GraphExecutionRejected) else None
    if command is None:
        return
    with d.tracer.start_as_current_span(
        "handle execution rejection", context=parent_context(record)
    ):
        await d.bus.publish(topics.TRIGGER_COMMANDS, command, source=SOURCE)
    d.metrics.command_sent(command.reason)


async def redeliver(*, user_id: str, webhook_id: str, event_id: str, d: Dispatcher) -> Dispatch:
    """Dispatch a logged event again on purpose, to the webhook's current triggers, with new
    request ids (deterministic per redelivery number) so the executor runs it again."""
    delivery = await get_delivery(user_id=user_id, webhook_id=webhook_id, event_id=event_id, d=d)
    if delivery.event is None:
        raise EventNotKept(f"event {event_id} was too large to keep for redelivery")
    number = delivery.redeliveries + 1
    plan = plan_dispatch(delivery.event, d.webhooks.get(webhook_id), redelivery=number)
    with d.tracer.start_as_current_span("redeliver webhook event") as span:
        span.set_attribute("webhook.id", webhook_id)
        span.set_attribute("webhook.event_id", event_id)
        span.set_attribute("webhook.redelivery", number)
        failures = await publish_requests(d.bus, plan.requests)
    transient = [e for e in failures.values() if not isinstance(e, PublishRejected)]
    if transient:
        # Not logged, so a retry reuses this number: what did go out is not run twice.
        raise transient[0]
    now = d.clock()
    dispatch = settle(
        plan.requests,
        plan.skipped,
        plan.skip_reason,
        failures={k: describe(e) for k, e in failures.items()},
        redelivery=number,
        at=now,
    )
    await d.deliveries.record(delivery.event, dispatch, now=now)
    d.metrics.dispatched(len(dispatch.requests))
    return dispatch
