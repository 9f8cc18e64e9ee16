from pydantic import Field, SecretStr

from integrations.runtime.settings import CommonSettings


class OAuthSettings(CommonSettings):
    database_name: str = Field(
        default="integrations_oauth", description="This service's own MongoDB database."
    )
    transport_keys: SecretStr | None = Field(
        default=None,
        description="Key ring for the `transport` purpose: tokens sent to the credentials "
        "service are encrypted under it.",
    )
    frontend_base_url: str | None = Field(
        default=None,
        description="Where the OAuth redirect lands; falls back to PLATFORM_BASE_URL.",
    )
    confirmation_timeout_s: float = Field(
        default=10.0, gt=0, description="How long a callback waits for CredentialsCreated."
    )
