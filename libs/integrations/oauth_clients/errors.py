"""What the OAuth handlers raise, beyond `integrations.providers`' own errors.

    OAuthFlowError (integrations.providers)
     ├── ProviderRefused       the provider answered with an OAuth error (`invalid_grant`, ...)
     ├── ProviderUnavailable   no usable answer: unreachable, 5xx, or not a token response
     └── NotRefreshable        the access token expires but no refresh token was issued

`reauthorization_required` tells the credentials service whether retrying can help (SPEC
CM-3, `CredentialsRefreshFailed.reauthorization_required`).

Messages are safe to show: the provider's error code and description, an HTTP status, or an
exception type, never a request (which carries the client secret or a token).
"""

from integrations.providers import OAuthFlowError

_MAX_DESCRIPTION = 300

# RFC 6749 §5.2: the grant (code or refresh token) is invalid, expired or revoked. Retrying
# cannot help; the user has to connect the account again.
_REAUTHORIZE = frozenset({"invalid_grant"})


class ProviderRefused(OAuthFlowError):
    def __init__(
        self, provider: str, action: str, error: str, description: str | None = None
    ) -> None:
        reason = error if not description else f"{error}: {description[:_MAX_DESCRIPTION]}"
        super().__init__(f"{provider} refused the {action} ({reason})")
        self.provider = provider
        self.error = error
        self.description = description

    @property
    def reauthorization_required(self) -> bool:
        return self.error in _REAUTHORIZE


class ProviderUnavailable(OAuthFlowError):
    """Transient as far as we can tell: the caller may retry later."""

    reauthorization_required = False

    def __init__(self, provider: str, action: str, cause: str) -> None:
        super().__init__(f"{provider} could not complete the {action} ({cause})")
        self.provider = provider


class NotRefreshable(OAuthFlowError):
    reauthorization_required = True

    def __init__(self, provider: str) -> None:
        super().__init__(
            f"{provider} issued no refresh token, so the expired access cannot be renewed: "
            "connect the account again"
        )
        self.provider = provider


class OAuthNotSupported(LookupError):
    """The provider is unknown, or known but not connected with OAuth (HTTP 404)."""

    def __init__(self, provider: str) -> None:
        super().__init__(f"Provider {provider!r} does not support OAuth.")
        self.provider = provider
