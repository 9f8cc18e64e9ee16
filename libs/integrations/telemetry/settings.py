from typing import Literal

from pydantic import BaseModel, Field


class TelemetrySettings(BaseModel):
    """Embedded in each service's settings under `telemetry`."""

    service_name: str = Field(description="Reported as the OpenTelemetry service.name.")
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP collector URL, e.g. http://otel-collector:4318; unset: no export.",
    )
    log_level: str = Field(default="INFO", description="Root log level.")
    log_format: Literal["json", "text"] = Field(
        default="json", description="json for machines (default), text for a developer's terminal."
    )
