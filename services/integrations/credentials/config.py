from pydantic import Field, SecretStr

from integrations.runtime.settings import CommonSettings


class CredentialsSettings(CommonSettings):
    database_name: str = Field(
        default="integrations_credentials", description="This service's own MongoDB database."
    )
    encryption_keys: SecretStr | None = Field(
        default=None,
        description="Root key ring `kid:base64url,...` (primary first); secrets at rest are "
        "encrypted under its `credentials` purpose key, and the tokens oauth sends are "
        "opened with its `transport` purpose key. Required.",
    )
    commands_consumer_group: str = Field(
        default="integrations-credentials-commands",
        description="Kafka consumer group of the replicas on the credentials-commands topic.",
    )
    frontend_base_url: str | None = Field(
        default=None,
        description="Base of the OAuth redirect URI (SPEC CM-7); falls back to "
        "PLATFORM_BASE_URL. Must match the oauth service's.",
    )
    update_attempts: int = Field(
        default=5,
        ge=1,
        description="Version races an update may lose to other replicas before it answers "
        "409 (SPEC CS-10).",
    )
    # Refresh and leases (SPEC CM-1..CM-6).
    lease_ttl_s: float = Field(
        default=60.0, gt=0, description="Default TTL of a lease taken through the internal API."
    )
    lease_max_ttl_s: float = Field(default=900.0, gt=0, description="Longest TTL a client may ask.")
    lease_wait_s: float = Field(
        default=10.0, ge=0, description="Default time an acquire waits while others hold it."
    )
    refresh_wait_s: float = Field(
        default=30.0,
        ge=0,
        description="How long a refresh on read waits for the credential to stop being in use; "
        "then the current token is served while it is valid.",
    )
    refresh_retry_initial_s: float = Field(
        default=30.0, gt=0, description="Wait after a failed refresh, doubling per failure."
    )
    background_refresh_horizon_s: float = Field(
        default=900.0, gt=0, description="The background job refreshes tokens expiring this soon."
    )
    background_refresh_interval_s: float = Field(
        default=60.0, ge=0, description="Between background scans (jittered); 0 turns it off."
    )
    provider_timeout_s: float = Field(
        default=10.0, gt=0, description="Timeout of one call to a provider's token endpoint."
    )
    # Webhooks and trigger links (SPEC WH-1..WH-6, RT-8).
    trigger_commands_consumer_group: str = Field(
        default="integrations-credentials-triggers",
        description="Kafka consumer group of the replicas on the trigger-commands topic.",
    )
    github_api_url: str = Field(
        default="https://api.github.com",
        description="GitHub's REST API, where repository webhooks are registered (GitHub "
        "Enterprise Server: https://HOST/api/v3).",
    )
    webhook_ping_timeout_s: float = Field(
        default=10.0, gt=0, description="How long a ping waits for its delivery (SPEC RT-8)."
    )
