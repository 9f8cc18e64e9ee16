"""`on_<topic>` subscribers: a record in, a handler called. Registered by bootstrap."""

from collections.abc import Awaitable, Callable

from integrations.bus import Bus, Record
from integrations.contracts import topics
from integrations.dispatcher.context import Dispatcher
from integrations.dispatcher.handlers import dispatch_event, handle_execution_result


def subscribe(
    bus: Bus,
    d: Dispatcher,
    *,
    events_group: str,
    results_group: str,
    until_ready: Callable[[], Awaitable[None]],
) -> None:
    async def on_webhook_events(record: Record) -> None:
        # Matching against a half-built view would skip triggers it has not seen yet.
        await until_ready()
        await dispatch_event(record, d)

    async def on_graph_execution_results(record: Record) -> None:
        await handle_execution_result(record, d)

    bus.subscribe(topics.WEBHOOK_EVENTS, on_webhook_events, group=events_group)
    bus.subscribe(topics.GRAPH_EXECUTION_RESULTS, on_graph_execution_results, group=results_group)
