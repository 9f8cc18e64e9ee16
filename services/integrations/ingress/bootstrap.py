"""The ingress service's composition root."""

from integrations.bus.materialized import MaterializedTable
from integrations.contracts import WebhookState, topics
from integrations.ingress.config import IngressSettings
from integrations.runtime.definition import Dependencies, ServiceDefinition
from integrations.runtime.unit import ServiceUnit

SERVICE_NAME = "ingress"


def build(settings: IngressSettings, deps: Dependencies) -> ServiceUnit:
    webhooks = MaterializedTable(deps.bus, topics.WEBHOOKS, WebhookState)
    return ServiceUnit(name=SERVICE_NAME, readiness={"webhooks_view": webhooks.ready})


SERVICE = ServiceDefinition(name=SERVICE_NAME, settings_class=IngressSettings, build=build)
