from pydantic import BaseModel, ConfigDict, Field

MIB = 1024 * 1024


class KafkaSettings(BaseModel):
    """How a service reaches Kafka; each service's settings class embeds one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bootstrap_servers: str = Field(
        default="127.0.0.1:9092", description="host:port pairs, comma separated."
    )
    client_id: str = Field(
        default="integrations", description="Names this client in the broker's logs and quotas."
    )
    publish_timeout_s: float = Field(
        default=5.0,
        gt=0,
        description="How long a publish waits for acks=all before raising BusUnavailable.",
    )
    connect_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="How long start() keeps trying to reach the cluster before giving up.",
    )
    request_timeout_s: float = Field(
        default=15.0, gt=0, description="Timeout of one request to a broker."
    )
    redelivery_delay_s: float = Field(
        default=1.0,
        ge=0,
        description="Pause before a record whose handler raised is delivered again.",
    )
    health_timeout_s: float = Field(
        default=1.5, gt=0, description="How long the readiness check waits for the broker."
    )
    graceful_timeout_s: float = Field(
        default=10.0, gt=0, description="How long stop() lets running handlers finish."
    )
    max_message_bytes: int = Field(
        default=16 * MIB,
        gt=0,
        description="Largest record produced or fetched; at least every topic's "
        "max.message.bytes (dead letters of large webhook events).",
    )
    session_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="A group member silent for this long loses its partitions.",
    )

    @property
    def servers(self) -> list[str]:
        return [server.strip() for server in self.bootstrap_servers.split(",") if server.strip()]
