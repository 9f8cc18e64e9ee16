"""The dispatcher's composition root."""

import asyncio
from datetime import timedelta

from opentelemetry import metrics, trace

from integrations.bus.materialized import MaterializedTable
from integrations.contracts import WebhookState, topics
from integrations.dispatcher.adapters.delivery_log import DeliveryLogRepository
from integrations.dispatcher.adapters.housekeeping import Sweeper
from integrations.dispatcher.adapters.instruments import DispatcherMetrics
from integrations.dispatcher.adapters.processed_events import ProcessedEventsRepository
from integrations.dispatcher.config import DispatcherSettings
from integrations.dispatcher.context import Dispatcher, DispatchPolicy, utc_now
from integrations.dispatcher.domain.retry import RetryPolicy
from integrations.dispatcher.entrypoints import delivery_routes, subscribers
from integrations.runtime.definition import Dependencies, ServiceDefinition
from integrations.runtime.unit import ServiceUnit

SERVICE_NAME = "dispatcher"
_READY_POLL_S = 0.05


def build(settings: DispatcherSettings, deps: Dependencies) -> ServiceUnit:
    database = deps.database(settings.database_name)
    webhooks = MaterializedTable(deps.bus, topics.WEBHOOKS, WebhookState)
    processed = ProcessedEventsRepository(
        database.collection("processed_events"),
        retention=timedelta(seconds=settings.processed_event_retention_s),
    )
    deliveries = DeliveryLogRepository(
        database.collection("deliveries"),
        retention=timedelta(seconds=settings.delivery_log_retention_s),
        max_event_bytes=settings.delivery_log_max_event_bytes,
    )
    dispatcher = Dispatcher(
        bus=deps.bus,
        webhooks=webhooks,
        processed=processed,
        deliveries=deliveries,
        policy=DispatchPolicy(
            consumer_group=settings.consumer_group,
            retry=RetryPolicy(
                max_attempts=settings.retry_max_attempts,
                initial_delay_s=settings.retry_initial_delay_s,
                max_delay_s=max(settings.retry_max_delay_s, settings.retry_initial_delay_s),
            ),
            unknown_webhook_grace_s=settings.unknown_webhook_grace_s,
        ),
        # The global providers: set by the host's telemetry, possibly after this build.
        metrics=DispatcherMetrics(metrics.get_meter("integrations.dispatcher")),
        tracer=trace.get_tracer("integrations.dispatcher"),
    )
    sweeper = Sweeper(
        [processed, deliveries], interval_s=settings.cleanup_interval_s, clock=utc_now
    )
    indexes_ready = asyncio.Event()

    async def until_ready() -> None:
        await indexes_ready.wait()
        while not await webhooks.ready():  # noqa: ASYNC110 - the table offers a check only
            await asyncio.sleep(_READY_POLL_S)

    subscribers.subscribe(
        deps.bus,
        dispatcher,
        events_group=settings.consumer_group,
        results_group=settings.results_consumer_group,
        until_ready=until_ready,
    )

    async def on_start() -> None:
        await processed.ensure_indexes()
        await deliveries.ensure_indexes()
        indexes_ready.set()
        sweeper.start()

    async def on_stop() -> None:
        await sweeper.stop()

    async def database_ready() -> bool:
        await database.ping()
        return True

    return ServiceUnit(
        name=SERVICE_NAME,
        routers=[delivery_routes.build_router(dispatcher)],
        readiness={"database": database_ready, "webhooks_view": webhooks.ready},
        on_start=on_start,
        on_stop=on_stop,
    )


SERVICE = ServiceDefinition(name=SERVICE_NAME, settings_class=DispatcherSettings, build=build)
