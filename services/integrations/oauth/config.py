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
    provider_timeout_s: float = Field(
        default=10.0, gt=0, description="Budget of each call to a provider or to Ayrshare."
    )
    credentials_internal_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL of the credentials service's /internal routes (managed "
        "credentials such as the Ayrshare profile key).",
    )
    credentials_timeout_s: float = Field(
        default=5.0, gt=0, description="Budget of each call to the credentials service."
    )
    ayrshare_api_key: SecretStr | None = Field(
        default=None, description="Ayrshare API key; unset: Ayrshare SSO is not configured."
    )
    ayrshare_jwt_key: SecretStr | None = Field(
        default=None, description="Private key (PEM) Ayrshare signs SSO tokens with."
    )
    ayrshare_domain: str | None = Field(
        default=None, description="The platform's Ayrshare integration domain (`id-...`)."
    )
    ayrshare_base_url: str = Field(
        default="https://api.ayrshare.com/api", description="Ayrshare API base URL."
    )
