"""The provider registry every service reads (SPEC REG-1..REG-5, CS-2, RT-13).

A provider is a declaration (`Provider`): its name, and as data its OAuth endpoints
(`OAuthConfig`), its webhooks (`WebhookConfig`: auto or manual, signature scheme), the env var
of the platform's API key and whether that makes a system credential. The catalogue
(`integrations.providers.catalogue`) lists them; `default_registry()` is built from it on
first use. Names are open-ended strings checked with `validate_provider_name`, not an enum.

This package holds interfaces, not their implementations:

- `OAuthHandler` (authorize URL, code exchange, refresh, revoke): implemented by the oauth
  service; used there (login, callback) and by credentials (refresh, revoke on delete).
- `WebhookManager` (validate a delivery, register, deregister, ping): implemented by the
  credentials service; used there (SPEC WH-2..WH-6) and by ingress (`validate_payload`).
- `WebhookVerifier`, one per `SignatureScheme`: implemented and used by the ingress service.
- `system_credentials(env)` (CS-2) is complete here; the credentials service lists them and
  refuses user writes to their ids. RT-13's routes return the models of `listing`.

A service attaches its classes to the declarations at its composition root:
`build_registry(oauth_handlers={...}, webhook_managers={...})`. The value types they exchange
(`OAuthTokens`, `OAuthClient`, `ProviderAuth`, `WebhookRegistration`, the `WebhookRef`
protocol) are defined here, so this package depends on no service.
"""

from integrations.providers.errors import (
    InvalidWebhookPayload,
    InvalidWebhookSignature,
    OAuthFlowError,
    PingNotSupported,
    ProviderConflict,
    ProviderError,
    ProviderNotConfigured,
    UnknownProvider,
    WebhookRejected,
)
from integrations.providers.listing import (
    ProviderConstants,
    ProviderEnumResponse,
    ProviderNamesResponse,
    provider_constants,
    provider_enum_example,
    provider_enum_model,
    provider_names,
    provider_names_response,
    system_provider_names,
)
from integrations.providers.oauth import (
    OAuthClient,
    OAuthConfig,
    OAuthHandler,
    OAuthTokens,
)
from integrations.providers.provider import (
    BlockConfiguration,
    DefaultCredential,
    Provider,
    SystemCredentialSpec,
    constant_name,
    system_credential_id,
)
from integrations.providers.registry import (
    KnownProviderName,
    ProviderRegistry,
    build_registry,
    default_registry,
    validate_provider_name,
)
from integrations.providers.system_credentials import (
    SystemAPIKeyCredential,
    SystemCredential,
    SystemUserPasswordCredential,
    is_system_credential,
    is_system_provider,
    system_credentials,
)
from integrations.providers.webhooks import (
    ProviderAuth,
    SignatureScheme,
    WebhookConfig,
    WebhookManager,
    WebhookRef,
    WebhookRegistration,
    WebhookVerifier,
)

__all__ = [
    "BlockConfiguration",
    "DefaultCredential",
    "InvalidWebhookPayload",
    "InvalidWebhookSignature",
    "KnownProviderName",
    "OAuthClient",
    "OAuthConfig",
    "OAuthFlowError",
    "OAuthHandler",
    "OAuthTokens",
    "PingNotSupported",
    "Provider",
    "ProviderAuth",
    "ProviderConflict",
    "ProviderConstants",
    "ProviderEnumResponse",
    "ProviderError",
    "ProviderNamesResponse",
    "ProviderNotConfigured",
    "ProviderRegistry",
    "SignatureScheme",
    "SystemAPIKeyCredential",
    "SystemCredential",
    "SystemCredentialSpec",
    "SystemUserPasswordCredential",
    "UnknownProvider",
    "WebhookConfig",
    "WebhookManager",
    "WebhookRef",
    "WebhookRegistration",
    "WebhookRejected",
    "WebhookVerifier",
    "build_registry",
    "constant_name",
    "default_registry",
    "is_system_credential",
    "is_system_provider",
    "provider_constants",
    "provider_enum_example",
    "provider_enum_model",
    "provider_names",
    "provider_names_response",
    "system_credential_id",
    "system_credentials",
    "system_provider_names",
    "validate_provider_name",
]
