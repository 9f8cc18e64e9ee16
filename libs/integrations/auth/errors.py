"""Errors of the auth package; each carries a short reason that is safe to send to a client.

AuthError
├── AuthenticationError   401: no usable credentials (missing, malformed, invalid, expired)
├── ForbiddenError        403: credentials present but not the right ones
└── KeysUnavailable       503: the JWKS cannot be fetched, so nothing can be verified
"""

from typing import Literal

AuthenticationReason = Literal[
    "missing_token",
    "malformed_header",
    "invalid_token",
    "expired_token",
    "invalid_audience",
    "invalid_issuer",
    "invalid_claims",
]
ForbiddenReason = Literal["invalid_service_token"]


class AuthError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuthenticationError(AuthError):
    reason: AuthenticationReason

    def __init__(self, reason: AuthenticationReason) -> None:
        super().__init__(reason)


class ForbiddenError(AuthError):
    reason: ForbiddenReason

    def __init__(self, reason: ForbiddenReason) -> None:
        super().__init__(reason)


class KeysUnavailable(AuthError):
    def __init__(self) -> None:
        super().__init__("keys_unavailable")
