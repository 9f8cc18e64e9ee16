"""What every service's HTTP surface shares: the error shape, health probes, the app factory.

Every error answers `{"error": {"code": ..., "message": ..., "details": [...]?}}` with the
right status code; nothing else (no stack trace, no echo of the request) ever leaves.
"""

from integrations.web.app import build_app
from integrations.web.errors import (
    ApiError,
    ErrorBody,
    ErrorMapping,
    error_responses,
    install_error_handlers,
)
from integrations.web.health import HealthChecks

__all__ = [
    "ApiError",
    "ErrorBody",
    "ErrorMapping",
    "HealthChecks",
    "build_app",
    "error_responses",
    "install_error_handlers",
]
