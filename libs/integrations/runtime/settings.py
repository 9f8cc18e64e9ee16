from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from integrations.auth import AuthConfig
from integrations.telemetry import TelemetrySettings


class CommonSettings(BaseSettings):
    """Settings every service reads; each service's `config.py` extends this class.

    Flat environment names (`KAFKA_BOOTSTRAP_SERVERS`, `DATABASE_URL`, ...) so an operator
    sets them without learning a nesting scheme.
    """

    model_config = SettingsConfigDict(env_file=None, extra="ignore", frozen=True)

    http_host: str = Field(default="127.0.0.1", description="Interface the HTTP server binds.")
    http_port: int = Field(default=8000, description="Port the HTTP server binds.")
    kafka_bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="Kafka bootstrap servers, comma separated."
    )
    kafka_publish_timeout_s: float = Field(
        default=5.0, description="How long a publish waits for the broker's acknowledgement."
    )
    database_url: str = Field(
        default="mongodb://127.0.0.1:27017/?replicaSet=rs0",
        description="mongodb://... for MongoDB, sqlite:///path.db for the embedded store.",
    )
    otlp_endpoint: str | None = Field(default=None, description="OTLP/HTTP collector URL.")
    log_level: str = Field(default="INFO", description="Root log level.")
    log_format: str = Field(default="json", description="json or text.")
    jwt_secret: SecretStr | None = Field(
        default=None, description="HS256 secret that signs user bearer tokens."
    )
    jwt_jwks_url: str | None = Field(
        default=None, description="JWKS URL for RS256/ES256 user tokens (instead of a secret)."
    )
    jwt_audience: str | None = Field(default=None, description="Required `aud`, when set.")
    jwt_issuer: str | None = Field(default=None, description="Required `iss`, when set.")
    service_token: SecretStr | None = Field(
        default=None, description="Shared token that authenticates calls to /internal routes."
    )
    platform_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Public base URL of the platform; webhook ingress URLs are built on it.",
    )

    def telemetry(self, service_name: str) -> TelemetrySettings:
        log_format = "text" if self.log_format == "text" else "json"
        return TelemetrySettings(
            service_name=service_name,
            otlp_endpoint=self.otlp_endpoint,
            log_level=self.log_level,
            log_format=log_format,
        )

    def auth_config(self) -> AuthConfig:
        return AuthConfig.model_validate(
            {
                "jwt_secret": self.jwt_secret,
                "jwks_url": self.jwt_jwks_url,
                "audience": self.jwt_audience,
                "issuer": self.jwt_issuer,
                "service_token": self.service_token,
            }
        )
