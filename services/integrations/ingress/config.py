from pydantic import Field, SecretStr

from integrations.runtime.settings import CommonSettings

MIB = 1024 * 1024


class IngressSettings(CommonSettings):
    webhook_secret_keys: SecretStr | None = Field(
        default=None,
        description="Key ring for webhook secrets only: a derived `webhook-secrets/...` ring "
        "(ingress never holds the root keys), or a root ring in the embedded default.",
    )
    max_body_bytes: int = Field(
        default=5 * MIB, gt=0, description="Largest webhook body accepted; larger gets 413."
    )
    credentials_internal_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL of the credentials service, for read-through webhook lookups.",
    )
