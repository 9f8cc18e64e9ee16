"""What the provider registry and the provider interfaces raise.

    ProviderError
     ├── UnknownProvider          a name the registry does not know (also a LookupError)
     ├── ProviderConflict         a second, different definition under a registered name
     ├── ProviderNotConfigured    the deployment lacks a provider's client id/secret (CM-7)
     ├── OAuthFlowError           the provider refused an exchange, refresh or revocation
     ├── WebhookRejected          an incoming webhook request is not accepted
     │    ├── InvalidWebhookPayload     malformed or incomplete (HTTP 400)
     │    └── InvalidWebhookSignature   unsigned, badly signed or stale (HTTP 403)
     └── PingNotSupported         the provider cannot be asked to ping (also NotImplementedError)

Messages never contain secrets: they may reach a user or a log line.
"""


class ProviderError(Exception):
    """Base of every error raised by `integrations.providers` and its implementations."""


class UnknownProvider(ProviderError, LookupError):
    def __init__(self, name: str) -> None:
        super().__init__(f"Unknown provider {name!r}.")
        self.name = name


class ProviderConflict(ProviderError, ValueError):
    pass


class ProviderNotConfigured(ProviderError):
    def __init__(self, provider: str, missing: list[str]) -> None:
        super().__init__(
            f"Integration with provider {provider!r} is not configured: "
            f"set {', '.join(missing)} in the deployment environment."
        )
        self.provider = provider
        self.missing = missing


class OAuthFlowError(ProviderError):
    pass


class WebhookRejected(ProviderError):
    pass


class InvalidWebhookPayload(WebhookRejected):
    pass


class InvalidWebhookSignature(WebhookRejected):
    pass


class PingNotSupported(ProviderError, NotImplementedError):
    def __init__(self, provider: str) -> None:
        super().__init__(f"Provider {provider!r} cannot ping its webhooks.")
        self.provider = provider
