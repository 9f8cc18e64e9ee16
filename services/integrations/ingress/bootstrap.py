"""The ingress service's composition root."""

import logging
import time

import httpx
from opentelemetry import metrics, trace

from integrations.bus.materialized import MaterializedTable
from integrations.contracts import WebhookState, topics
from integrations.crypto import Cipher, Purpose
from integrations.ingress.adapters.credentials_client import CredentialsWebhookClient
from integrations.ingress.adapters.metrics import IngressMetrics
from integrations.ingress.adapters.secret_cache import CachingCipher
from integrations.ingress.adapters.ttl_cache import TtlCache
from integrations.ingress.adapters.webhook_lookup import ViewWithReadThrough
from integrations.ingress.config import IngressSettings
from integrations.ingress.domain.types import Clock
from integrations.ingress.entrypoints.http import build_routes
from integrations.ingress.handlers import Collaborators
from integrations.providers import ProviderRegistry, WebhookConfig, default_registry
from integrations.runtime.definition import Dependencies, ServiceDefinition
from integrations.runtime.unit import ServiceUnit

log = logging.getLogger(__name__)

SERVICE_NAME = "ingress"
INSTRUMENTATION_NAME = "integrations.ingress"


class WebhookConfigTable:
    """The registry's webhook declarations, read once: a plain dict on the hot path."""

    def __init__(self, registry: ProviderRegistry) -> None:
        self._configs: dict[str, WebhookConfig] = {}
        for name in registry.names():
            config = registry.webhook_config(name)
            if config is not None:
                self._configs[name] = config

    def webhook_config(self, name: str) -> WebhookConfig | None:
        return self._configs.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._configs


def build(
    settings: IngressSettings,
    deps: Dependencies,
    *,
    credentials_transport: httpx.AsyncBaseTransport | None = None,
    tracer_provider: trace.TracerProvider | None = None,
    meter_provider: metrics.MeterProvider | None = None,
    clock: Clock = time.time,
) -> ServiceUnit:
    """Keyword arguments are test seams; hosts pass only settings and dependencies."""
    if settings.webhook_secret_keys is None:
        # Fail at start, not with a 500 on the first signed delivery.
        raise ValueError("ingress needs WEBHOOK_SECRET_KEYS (`integrations keys derive ...`)")
    cipher = Cipher.from_key_ring(
        settings.webhook_secret_keys.get_secret_value(), Purpose.WEBHOOK_SECRETS
    )
    if settings.service_token is None:
        log.warning("no SERVICE_TOKEN: credentials will refuse read-through lookups (503s)")
    providers = WebhookConfigTable(default_registry())
    view = MaterializedTable(deps.bus, topics.WEBHOOKS, WebhookState)
    # Built here, used from the first request on, closed when the service stops.
    http = httpx.AsyncClient(transport=credentials_transport)
    owner = CredentialsWebhookClient(
        http,
        base_url=settings.credentials_internal_url,
        service_token=settings.service_token,
        timeout_s=settings.webhook_lookup_timeout_s,
    )
    lookup = ViewWithReadThrough(
        view,
        owner,
        found=TtlCache(
            max_entries=settings.webhook_lookup_cache_size, ttl_s=settings.webhook_found_ttl_s
        ),
        not_found=TtlCache(
            max_entries=settings.webhook_lookup_cache_size, ttl_s=settings.webhook_not_found_ttl_s
        ),
        max_in_flight=settings.webhook_lookup_concurrency,
    )
    instruments = IngressMetrics(
        metrics.get_meter(INSTRUMENTATION_NAME, meter_provider=meter_provider), providers
    )
    collaborators = Collaborators(
        providers=providers,
        webhooks=lookup,
        cipher=CachingCipher(
            cipher,
            TtlCache(
                max_entries=settings.webhook_lookup_cache_size,
                ttl_s=settings.webhook_secret_cache_ttl_s,
            ),
        ),
        bus=deps.bus,
        clock=clock,
    )
    router, raw_route = build_routes(
        collaborators,
        metrics=instruments,
        tracer=trace.get_tracer(INSTRUMENTATION_NAME, tracer_provider=tracer_provider),
        max_body_bytes=settings.max_body_bytes,
        retry_after_s=settings.retry_after_s,
    )
    return ServiceUnit(
        name=SERVICE_NAME,
        routers=[router],
        raw_routes=[raw_route],
        readiness={"webhooks_view": view.ready},
        on_stop=http.aclose,
    )


SERVICE = ServiceDefinition(name=SERVICE_NAME, settings_class=IngressSettings, build=build)
