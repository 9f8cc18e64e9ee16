from pydantic import Field, SecretStr

from integrations.runtime.settings import CommonSettings


class CredentialsSettings(CommonSettings):
    database_name: str = Field(
        default="integrations_credentials", description="This service's own MongoDB database."
    )
    encryption_keys: SecretStr | None = Field(
        default=None,
        description="Root key ring `kid:base64url,...` (primary first); secrets at rest are "
        "encrypted under its `credentials` purpose key.",
    )
