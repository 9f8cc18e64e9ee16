from pydantic import Field

from integrations.runtime.settings import CommonSettings

DAY_S = 24 * 60 * 60
KIB = 1024


class DispatcherSettings(CommonSettings):
    database_name: str = Field(
        default="integrations_dispatcher", description="This service's own MongoDB database."
    )
    consumer_group: str = Field(
        default="integrations-dispatcher",
        description="Kafka consumer group of the replicas on the webhook-events topic.",
    )
    results_consumer_group: str = Field(
        default="integrations-dispatcher-results",
        description="Consumer group on the execution-results topic (its own, so a rebalance "
        "of one subscription never pauses the other).",
    )
    retry_max_attempts: int = Field(
        default=5, ge=1, description="Attempts at an event before it is dead-lettered."
    )
    retry_initial_delay_s: float = Field(
        default=0.2, ge=0, description="Backoff after the first failed attempt; doubles after."
    )
    retry_max_delay_s: float = Field(default=5.0, ge=0, description="Backoff ceiling.")
    unknown_webhook_grace_s: float = Field(
        default=2.0,
        ge=0,
        description="How long an event waits for its webhook to reach the view before it is "
        "logged as skipped (webhook_unknown).",
    )
    processed_event_retention_s: int = Field(
        default=8 * DAY_S,
        gt=0,
        description="How long an event id is remembered as processed; longer than the topic's "
        "7-day retention, so a consumer-group reset cannot dispatch an event twice.",
    )
    delivery_log_retention_s: int = Field(
        default=7 * DAY_S, gt=0, description="How long deliveries stay in the log."
    )
    delivery_log_max_event_bytes: int = Field(
        default=256 * KIB,
        ge=0,
        description="Largest event (JSON) the log keeps for redelivery; larger events are "
        "logged without their payload and cannot be redelivered.",
    )
    cleanup_interval_s: float = Field(
        default=600.0, gt=0, description="How often expired records are deleted."
    )
