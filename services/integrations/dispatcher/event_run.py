"""One webhook-events record, from first attempt to commit (or dead letter)."""

import logging
import math
from collections.abc import Mapping

from integrations.bus import BusUnavailable, PublishRejected, Record
from integrations.contracts import WebhookEventReceived, WebhookState
from integrations.dispatcher.adapters.dead_letters import send_to_dead_letters
from integrations.dispatcher.context import SOURCE, Dispatcher
from integrations.dispatcher.domain.deliveries import settle
from integrations.dispatcher.domain.fan_out import DispatchPlan, plan_dispatch
from integrations.dispatcher.publishing import describe, publish_requests

log = logging.getLogger(__name__)

_WEBHOOK_POLL_S = 0.1
_ERRORS_NAMED = 5


class TargetsFailed(Exception):
    """Some execution requests of an event were not acknowledged by the broker."""

    def __init__(self, failures: Mapping[str, Exception], total: int) -> None:
        named = "; ".join(
            f"{rid}: {describe(e)}" for rid, e in list(failures.items())[:_ERRORS_NAMED]
        )
        super().__init__(f"{len(failures)} of {total} execution requests failed: {named}")


class EventRun:
    """The attempts at one record. What the broker acknowledged stays done, so a retry only
    publishes what failed; transient failures are retried with backoff, and the record is
    dead-lettered after the last attempt, or at once when the broker refuses a request for
    good. Either way the record may then be committed.

    A publish that failed while the broker is down altogether is not this event's fault: it
    does not use up an attempt, and the run waits for the broker (the consumer could not
    move on anyway). Otherwise an outage longer than the retries would dead-letter every
    event in flight, events ingress had acknowledged."""

    def __init__(self, record: Record, event: WebhookEventReceived, d: Dispatcher) -> None:
        self._record = record
        self._event = event
        self._d = d
        self._plan: DispatchPlan | None = None
        self._acknowledged: set[str] = set()
        self._failures: dict[str, Exception] = {}
        self._logged = False

    async def run(self) -> None:
        retry = self._d.policy.retry
        attempt = 0
        outage_waits = 0
        while True:
            attempt += 1
            try:
                done = await self._attempt(attempt)
            except Exception as error:
                if await self._broker_down(error):
                    attempt -= 1
                    outage_waits += 1
                    log.warning(
                        "dispatch of %s waits for the broker: %s",
                        self._event.event_id,
                        describe(error),
                    )
                    await self._d.sleep(retry.delay_after(outage_waits, self._d.jitter()))
                    continue
                if attempt >= retry.max_attempts:
                    await self._give_up(error, attempt)
                    return
                log.warning(
                    "dispatch of %s failed (attempt %d of %d): %s",
                    self._event.event_id,
                    attempt,
                    retry.max_attempts,
                    describe(error),
                )
                self._d.metrics.retried()
                await self._d.sleep(retry.delay_after(attempt, self._d.jitter()))
                continue
            if not done:
                await self._give_up(TargetsFailed(self._failures, self._total), attempt)
            return

    async def _broker_down(self, error: Exception) -> bool:
        if not isinstance(error, TargetsFailed | BusUnavailable):
            return False
        try:
            return not await self._d.bus.health()
        except Exception:
            return True

    async def _attempt(self, attempt: int) -> bool:
        """True when finished; False when some request was refused for good; raises when
        something transient failed."""
        d, event = self._d, self._event
        if self._plan is None:
            if await d.processed.contains(event.webhook_id, event.event_id, now=d.clock()):
                d.metrics.event_skipped("duplicate")
                return True
            self._plan = plan_dispatch(event, await self._webhook())
            for skipped in self._plan.skipped:
                d.metrics.trigger_skipped(skipped.reason)
        pending = [
            r
            for r in self._plan.requests
            if r.request_id not in self._acknowledged
            and not isinstance(self._failures.get(r.request_id), PublishRejected)
        ]
        failures = await publish_requests(d.bus, pending)
        for request in pending:
            if request.request_id not in failures:
                self._acknowledged.add(request.request_id)
                self._failures.pop(request.request_id, None)
        self._failures.update(failures)
        d.metrics.dispatched(len(pending) - len(failures))
        transient = {k: e for k, e in self._failures.items() if not isinstance(e, PublishRejected)}
        if transient:
            raise TargetsFailed(transient, self._total)
        if self._failures:
            return False
        await self._finish(self._plan, attempt)
        return True

    async def _finish(self, plan: DispatchPlan, attempt: int) -> None:
        d, event = self._d, self._event
        now = d.clock()
        if not self._logged:  # a retry after a failed `add` must not log the dispatch twice
            dispatch = settle(
                plan.requests,
                plan.skipped,
                plan.skip_reason,
                failures={},
                redelivery=0,
                at=now,
                attempts=attempt,
            )
            await d.deliveries.record(event, dispatch, now=now)
            self._logged = True
        # Only now: every request is acknowledged, so a crash before this line re-dispatches
        # the record with the same ids rather than losing it.
        await d.processed.add(event.webhook_id, event.event_id, now=now)
        if plan.skip_reason is not None:
            d.metrics.event_skipped(plan.skip_reason)

    async def _give_up(self, error: Exception, attempts: int) -> None:
        d, event = self._d, self._event
        letter = await send_to_dead_letters(
            d.bus,
            self._record,
            error,
            attempts=attempts,
            consumer_group=d.policy.consumer_group,
            source=SOURCE,
            now=d.clock(),
        )
        d.metrics.dead_lettered(letter.error_type)
        log.warning(
            "dead-lettered event %s of webhook %s after %d attempts: %s",
            event.event_id,
            event.webhook_id,
            attempts,
            letter.error,
        )
        plan = self._plan or DispatchPlan(requests=())
        now = d.clock()
        dispatch = settle(
            plan.requests,
            plan.skipped,
            plan.skip_reason,
            failures={k: describe(e) for k, e in self._failures.items()},
            redelivery=0,
            at=now,
            attempts=attempts,
            error=letter.error,
        )
        try:
            await d.deliveries.record(event, dispatch, now=now)
        except Exception:
            # The dead letter is what counts; the log must not hold the partition up.
            log.warning("could not log the dead-lettered event %s", event.event_id, exc_info=True)

    async def _webhook(self) -> WebhookState | None:
        webhook = self._d.webhooks.get(self._event.webhook_id)
        for _ in range(math.ceil(self._d.policy.unknown_webhook_grace_s / _WEBHOOK_POLL_S)):
            if webhook is not None:
                break
            await self._d.sleep(_WEBHOOK_POLL_S)
            webhook = self._d.webhooks.get(self._event.webhook_id)
        return webhook

    @property
    def _total(self) -> int:
        return 0 if self._plan is None else len(self._plan.requests)
