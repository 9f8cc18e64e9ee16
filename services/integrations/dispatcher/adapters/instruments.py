"""The dispatcher's metrics (OpenTelemetry; exported when the service has a collector)."""

from opentelemetry.metrics import Meter


class DispatcherMetrics:
    def __init__(self, meter: Meter) -> None:
        self._consumed = meter.create_counter(
            "dispatcher.events.consumed", unit="{event}", description="Webhook events consumed."
        )
        self._dispatched = meter.create_counter(
            "dispatcher.requests.dispatched",
            unit="{request}",
            description="Execution requests acknowledged by the broker.",
        )
        self._events_skipped = meter.create_counter(
            "dispatcher.events.skipped",
            unit="{event}",
            description="Events that caused no request, by reason (duplicate, webhook_unknown, "
            "no_triggers, no_match).",
        )
        self._triggers_skipped = meter.create_counter(
            "dispatcher.triggers.skipped",
            unit="{trigger}",
            description="Triggers an event did not run, by reason (filter_mismatch, "
            "preset_inactive).",
        )
        self._dead_lettered = meter.create_counter(
            "dispatcher.events.dead_lettered",
            unit="{event}",
            description="Records sent to the dead-letter topic, by error type.",
        )
        self._retries = meter.create_counter(
            "dispatcher.events.retries", unit="{attempt}", description="Attempts after a failure."
        )
        self._commands = meter.create_counter(
            "dispatcher.trigger_commands.sent",
            unit="{command}",
            description="Trigger commands sent on executor rejections, by reason.",
        )
        self._duration = meter.create_histogram(
            "dispatcher.event.duration",
            unit="s",
            description="Processing time of one record, retries included.",
        )
        self._lag = meter.create_histogram(
            "dispatcher.consumer.lag",
            unit="s",
            description="Age of a record when its processing starts (broker timestamp to now): "
            "the consumer's lag in time.",
        )

    def consumed(self, lag_s: float) -> None:
        self._consumed.add(1)
        self._lag.record(max(0.0, lag_s))

    def dispatched(self, count: int) -> None:
        if count:
            self._dispatched.add(count)

    def event_skipped(self, reason: str) -> None:
        self._events_skipped.add(1, {"reason": reason})

    def trigger_skipped(self, reason: str) -> None:
        self._triggers_skipped.add(1, {"reason": reason})

    def dead_lettered(self, error_type: str) -> None:
        self._dead_lettered.add(1, {"error_type": error_type})

    def retried(self) -> None:
        self._retries.add(1)

    def command_sent(self, reason: str) -> None:
        self._commands.add(1, {"reason": reason})

    def processed(self, duration_s: float) -> None:
        self._duration.record(duration_s)
