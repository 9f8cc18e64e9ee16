"""The OAuth service's composition root."""

from integrations.oauth.config import OAuthSettings
from integrations.runtime.definition import Dependencies, ServiceDefinition
from integrations.runtime.unit import ServiceUnit

SERVICE_NAME = "oauth"


def build(settings: OAuthSettings, deps: Dependencies) -> ServiceUnit:
    database = deps.database(settings.database_name)

    async def database_ready() -> bool:
        await database.ping()
        return True

    return ServiceUnit(name=SERVICE_NAME, readiness={"database": database_ready})


SERVICE = ServiceDefinition(name=SERVICE_NAME, settings_class=OAuthSettings, build=build)
