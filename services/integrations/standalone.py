"""One service per process: Kafka bus, MongoDB, its own HTTP port (`integrations serve`)."""

from typing import Any

from fastapi import FastAPI

from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from integrations.runtime.definition import Dependencies, ServiceDefinition
from integrations.runtime.hosting import host_units
from integrations.runtime.version import VERSION
from integrations.telemetry import configure_telemetry, kafka_middlewares


def build_standalone_app(service: ServiceDefinition[Any], **overrides: Any) -> FastAPI:
    settings = service.load_settings(**overrides)
    telemetry = configure_telemetry(settings.telemetry(f"integrations-{service.name}"))
    bus = KafkaBus(
        KafkaSettings(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            client_id=f"integrations-{service.name}",
            publish_timeout_s=settings.kafka_publish_timeout_s,
        ),
        middlewares=kafka_middlewares(telemetry),
        tracer_provider=telemetry.tracer_provider,
        meter_provider=telemetry.meter_provider,
    )
    deps = Dependencies(bus, settings.database_url)
    unit = service.build(settings, deps)

    async def shutdown_telemetry() -> None:
        telemetry.shutdown()

    return host_units(
        [unit],
        title=f"Integrations {service.name} service",
        version=VERSION,
        bus=bus,
        auth=settings.auth_config(),
        closers=[deps.close, shutdown_telemetry],
    )
