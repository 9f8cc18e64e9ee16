"""The credentials service's composition root."""

from integrations.credentials.config import CredentialsSettings
from integrations.credentials.entrypoints import provider_routes
from integrations.runtime.definition import Dependencies, ServiceDefinition
from integrations.runtime.unit import ServiceUnit

SERVICE_NAME = "credentials"


def build(settings: CredentialsSettings, deps: Dependencies) -> ServiceUnit:
    database = deps.database(settings.database_name)

    async def database_ready() -> bool:
        await database.ping()
        return True

    return ServiceUnit(
        name=SERVICE_NAME,
        routers=[provider_routes.router],
        readiness={"database": database_ready},
    )


SERVICE = ServiceDefinition(name=SERVICE_NAME, settings_class=CredentialsSettings, build=build)
