"""The four services, as the hosts and the CLI know them."""

from typing import Any

from integrations.credentials.bootstrap import SERVICE as CREDENTIALS
from integrations.dispatcher.bootstrap import SERVICE as DISPATCHER
from integrations.ingress.bootstrap import SERVICE as INGRESS
from integrations.oauth.bootstrap import SERVICE as OAUTH
from integrations.runtime.definition import ServiceDefinition

SERVICES: dict[str, ServiceDefinition[Any]] = {
    service.name: service for service in (INGRESS, CREDENTIALS, OAUTH, DISPATCHER)
}
