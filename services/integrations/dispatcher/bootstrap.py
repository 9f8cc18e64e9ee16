"""The dispatcher's composition root."""

from integrations.bus.materialized import MaterializedTable
from integrations.contracts import WebhookState, topics
from integrations.dispatcher.config import DispatcherSettings
from integrations.runtime.definition import Dependencies, ServiceDefinition
from integrations.runtime.unit import ServiceUnit

SERVICE_NAME = "dispatcher"


def build(settings: DispatcherSettings, deps: Dependencies) -> ServiceUnit:
    database = deps.database(settings.database_name)
    webhooks = MaterializedTable(deps.bus, topics.WEBHOOKS, WebhookState)

    async def database_ready() -> bool:
        await database.ping()
        return True

    return ServiceUnit(
        name=SERVICE_NAME,
        readiness={"database": database_ready, "webhooks_view": webhooks.ready},
    )


SERVICE = ServiceDefinition(name=SERVICE_NAME, settings_class=DispatcherSettings, build=build)
