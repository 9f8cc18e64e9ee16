"""What the oauth service's handlers raise, and the status each becomes at the HTTP edge.

    OAuthServiceError
    ├── OAuthNotAvailable                404  unknown provider, or not an OAuth one (RT-1)
    ├── OAuthNotConfigured               501  no client id/secret in this deployment (RT-1)
    ├── InvalidState                     400  unknown, used, expired or someone else's (RT-2)
    ├── ExchangeFailed                   400  the provider refused the code; says why (RT-2)
    ├── ConfirmationTimeout              504  credentials did not confirm in time (DESIGN §4)
    ├── AyrshareNotConfigured            500  (RT-12)
    ├── AyrshareFailed                   502  Ayrshare refused or is unreachable (RT-12)
    └── ManagedCredentialsUnavailable    503  the credentials service cannot be asked now

Messages are safe to show: no tokens, codes, keys or provider response bodies.
"""


class OAuthServiceError(Exception):
    pass


class OAuthNotAvailable(OAuthServiceError):
    pass


class OAuthNotConfigured(OAuthServiceError):
    pass


class InvalidState(OAuthServiceError):
    def __init__(self) -> None:
        super().__init__("Invalid or expired state token.")


class ExchangeFailed(OAuthServiceError):
    def __init__(self, reason: str) -> None:
        super().__init__(f"OAuth2 callback failed to exchange code for tokens: {reason}")


class ConfirmationTimeout(OAuthServiceError):
    def __init__(self, credentials_id: str, timeout_s: float) -> None:
        super().__init__(
            f"The credentials service did not confirm storing credentials {credentials_id} "
            f"within {timeout_s:g} s. They will appear once it catches up; do not connect again."
        )
        self.credentials_id = credentials_id


class AyrshareNotConfigured(OAuthServiceError):
    def __init__(self) -> None:
        super().__init__("Ayrshare integration is not configured.")


class AyrshareFailed(OAuthServiceError):
    pass


class ManagedCredentialsUnavailable(OAuthServiceError):
    pass
