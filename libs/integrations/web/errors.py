import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger(__name__)

_CODES_BY_STATUS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    501: "not_configured",
    502: "bad_gateway",
    503: "unavailable",
    504: "timeout",
}


class ErrorDetail(BaseModel):
    model_config = {"frozen": True}

    code: str = Field(description="Machine-readable error code, stable across releases.")
    message: str = Field(description="Human-readable explanation, safe to show to users.")
    details: list[dict[str, Any]] | None = Field(
        default=None, description="Field errors of an invalid request (location, message, type)."
    )


class ErrorBody(BaseModel):
    """The one JSON shape of every error response."""

    error: ErrorDetail


class ApiError(Exception):
    """Raised by handlers and routes for an expected failure with a known status."""

    def __init__(
        self,
        status_code: int,
        message: str,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.message = message
        self.code = code or _CODES_BY_STATUS.get(status_code, "error")
        self.headers = dict(headers or {})


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the error statuses a route or router answers beyond the ones
    every operation documents (`build_app`), so clients and Schemathesis know them."""
    return {status: {"model": ErrorBody} for status in statuses}


@dataclass(frozen=True)
class ErrorMapping:
    """Turns an exception type raised deep inside (storage, bus) into a status and message."""

    exception: type[Exception]
    status_code: int
    code: str
    message: str
    headers: Mapping[str, str] | None = None


def error_response(
    status_code: int,
    code: str,
    message: str,
    *,
    details: list[dict[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, details=details))
    return JSONResponse(
        body.model_dump(mode="json", exclude_none=True),
        status_code=status_code,
        headers=dict(headers or {}),
    )


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only location, message and type: pydantic's `input` and `ctx` can echo secrets back.
    return [
        {"loc": list(error.get("loc", ())), "msg": error.get("msg", ""), "type": error.get("type")}
        for error in exc.errors()
    ]


# The refusal a request's authentication would get, or None when it passes (see auth).
Refusal = Callable[[Request], Awaitable[StarletteHTTPException | None]]
# What FastAPI answers about a body it could not read, before any dependency has run.
_BODY_STATUSES = frozenset({400, 413, 422})


def install_error_handlers(
    app: FastAPI, mappings: Sequence[ErrorMapping] = (), *, refusal: Refusal | None = None
) -> None:
    """`refusal`: asked before answering about a body (400, 413, 422), because FastAPI reads
    the body before any dependency runs, so an unauthenticated caller would otherwise hear
    about its body first."""

    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status_code, exc.code, exc.message, headers=exc.headers)

    async def on_http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code in _BODY_STATUSES and refusal is not None:
            exc = await refusal(request) or exc
        code = _CODES_BY_STATUS.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, headers=exc.headers)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        if refusal is not None and (refused := await refusal(request)) is not None:
            return await on_http_error(request, refused)
        return error_response(
            422, "invalid_request", "The request is invalid.", details=_field_errors(exc)
        )

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        for mapping in mappings:
            if isinstance(exc, mapping.exception):
                log.warning("%s %s: %s", request.method, request.url.path, mapping.code)
                return error_response(
                    mapping.status_code, mapping.code, mapping.message, headers=mapping.headers
                )
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", "An internal error occurred.")

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    for mapping in mappings:
        app.add_exception_handler(mapping.exception, on_unexpected)
    app.add_exception_handler(Exception, on_unexpected)
