"""The providers this platform knows, as declarations (SPEC REG-1, CS-2). Adding a provider is
adding one entry to one of these modules; nothing here does I/O or reads the environment."""

from integrations.providers.catalogue.api_keys import (
    SYSTEM_CREDENTIAL_PROVIDERS,
    USER_KEY_PROVIDERS,
)
from integrations.providers.catalogue.oauth_apps import OAUTH_PROVIDERS
from integrations.providers.catalogue.webhook_senders import WEBHOOK_PROVIDERS
from integrations.providers.provider import Provider

CATALOGUE: tuple[Provider, ...] = (
    *OAUTH_PROVIDERS,
    *WEBHOOK_PROVIDERS,
    *SYSTEM_CREDENTIAL_PROVIDERS,
    *USER_KEY_PROVIDERS,
)

__all__ = [
    "CATALOGUE",
    "OAUTH_PROVIDERS",
    "SYSTEM_CREDENTIAL_PROVIDERS",
    "USER_KEY_PROVIDERS",
    "WEBHOOK_PROVIDERS",
]
