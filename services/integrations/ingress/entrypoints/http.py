"""`POST /api/integrations/{provider}/webhooks/{webhook_id}/ingress` (SPEC RT-7, DESIGN §4).

No user token: the provider's signature is the authentication. The route turns the request
into an `IncomingDelivery`, runs `receive_webhook`, and turns its outcome or error into a
status, one JSON shape (`integrations.web`), a metric and a server span.
"""

import json
import logging
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from fastapi import APIRouter
from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from pydantic import BaseModel, Field
from starlette.datastructures import Headers
from starlette.requests import ClientDisconnect
from starlette.types import Receive, Scope, Send

from integrations.bus import BusUnavailable, PublishRejected
from integrations.ingress.adapters.metrics import IngressMetrics
from integrations.ingress.entrypoints.body import read_body
from integrations.ingress.handlers import (
    Accepted,
    BodyTooLarge,
    Collaborators,
    IncomingDelivery,
    IngressError,
    SecretUnreadable,
    UnknownWebhook,
    WebhookLookupUnavailable,
    is_webhook_id,
    receive_webhook,
)
from integrations.providers import InvalidWebhookPayload, InvalidWebhookSignature
from integrations.web.app import API_PREFIX
from integrations.web.errors import ErrorBody, error_response
from integrations.web.raw_routes import AsgiApiRoute, RawRoute, documented

log = logging.getLogger(__name__)

ROUTE = "/{provider}/webhooks/{webhook_id}/ingress"
PROVIDER_ATTRIBUTE = "integrations.provider"
_MAX_MESSAGE_CHARS = 300


class AcceptedBody(BaseModel):
    status: Literal["accepted"] = "accepted"
    event_id: str = Field(
        description="Id of the published event (the provider's delivery id "
        "scoped by the webhook, when it sends one)."
    )


class HandshakeBody(BaseModel):
    challenge: str = Field(description="Slack's url_verification challenge, echoed.")


@dataclass(frozen=True, slots=True)
class Failure:
    status: int
    code: str
    message: str
    outcome: str
    headers: Mapping[str, str] = field(default_factory=dict)


def failure_for(error: Exception, *, retry_after_s: int) -> Failure | None:
    """The answer to an expected failure; None for a bug (then a logged 500)."""
    retry = {"Retry-After": str(retry_after_s)}
    match error:
        case UnknownWebhook():
            return Failure(404, "webhook_not_found", "Unknown webhook.", error.outcome)
        case BodyTooLarge():
            return Failure(413, "payload_too_large", str(error), error.outcome)
        case InvalidWebhookSignature():
            # Fixed text: which check failed is an oracle for whoever forges signatures.
            message = "The webhook signature is missing or invalid."
            return Failure(403, "invalid_signature", message, "bad_signature")
        case InvalidWebhookPayload():
            message = str(error)[:_MAX_MESSAGE_CHARS] or "The request body is invalid."
            return Failure(400, "invalid_payload", message, "bad_payload")
        case WebhookLookupUnavailable():
            message = "The webhook cannot be looked up right now; retry shortly."
            return Failure(503, "webhook_lookup_unavailable", message, error.outcome, retry)
        case BusUnavailable():
            message = "The message broker is unavailable; retry shortly."
            return Failure(503, "broker_unavailable", message, "broker_unavailable", retry)
        case ClientDisconnect():
            message = "The client went away before sending the whole body."
            return Failure(400, "client_disconnected", message, "client_disconnected")
        case SecretUnreadable() | PublishRejected():
            outcome = error.outcome if isinstance(error, IngressError) else "publish_rejected"
            return Failure(500, "internal_error", "An internal error occurred.", outcome)
    return None


class IngressEndpoint:
    """The route as a plain ASGI app (`integrations.web.raw_routes`): FastAPI's stack cost
    more CPU than the delivery's own work, so this app answers without it."""

    def __init__(
        self,
        deps: Collaborators,
        *,
        metrics: IngressMetrics,
        tracer: Tracer,
        max_body_bytes: int,
        retry_after_s: int,
    ) -> None:
        self._deps = deps
        self._metrics = metrics
        self._tracer = tracer
        self._max_body_bytes = max_body_bytes
        self._retry_after_s = retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        params = scope["path_params"]
        provider: str = params["provider"]
        webhook_id: str = params["webhook_id"]
        headers = Headers(scope=scope)
        provider_label = self._metrics.provider_label(provider)
        with _server_span(self._tracer, headers, provider_label) as span:
            delivery = IncomingDelivery(
                provider=provider,
                webhook_id=webhook_id,
                headers=headers,
                read_body=lambda: read_body(headers, receive, self._max_body_bytes),
            )
            try:
                result = await receive_webhook(delivery, self._deps)
            except Exception as error:
                failure = self._failure(error, provider, provider_label, webhook_id)
                _end(span, failure.status)
                response = error_response(
                    failure.status, failure.code, failure.message, headers=failure.headers
                )
                await response(scope, receive, send)
                outcome = failure.outcome
            else:
                if isinstance(result, Accepted):
                    outcome, body = "accepted", {"status": "accepted", "event_id": result.event_id}
                else:
                    outcome, body = "handshake", {"challenge": result.challenge}
                _end(span, 200)
                await _send_json(send, body)
        self._metrics.request_finished(provider, outcome, time.perf_counter() - started)

    def _failure(
        self, error: Exception, provider: str, provider_label: str, webhook_id: str
    ) -> Failure:
        failure = failure_for(error, retry_after_s=self._retry_after_s)
        if failure is None:
            log.exception("webhook delivery failed", extra={"provider": provider_label})
            failure = Failure(500, "internal_error", "An internal error occurred.", "error")
        _report(failure, provider_label, webhook_id, error)
        if isinstance(error, InvalidWebhookSignature):
            self._metrics.verification_failed(provider)
        return failure


async def _send_json(send: Send, body: Mapping[str, str]) -> None:
    content = json.dumps(body, separators=(",", ":")).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(content)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": content})


def build_routes(
    deps: Collaborators,
    *,
    metrics: IngressMetrics,
    tracer: Tracer,
    max_body_bytes: int,
    retry_after_s: int,
) -> tuple[APIRouter, RawRoute]:
    """The route for FastAPI's document, and the same endpoint as a raw route."""
    endpoint = IngressEndpoint(
        deps,
        metrics=metrics,
        tracer=tracer,
        max_body_bytes=max_body_bytes,
        retry_after_s=retry_after_s,
    )
    router = APIRouter(prefix=API_PREFIX, tags=["webhooks"], route_class=AsgiApiRoute)

    @router.post(
        ROUTE,
        summary="Receive a webhook delivery from a provider",
        # Read raw (the signature covers the bytes), so FastAPI cannot infer the body.
        openapi_extra={
            "requestBody": {
                "description": "The provider's delivery, as it sends it.",
                "content": {
                    "application/json": {"schema": {}},
                    "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                },
            }
        },
        response_model=AcceptedBody | HandshakeBody,
        responses={
            code: {"model": ErrorBody, "description": text}
            for code, text in [
                (403, "Signature missing or invalid"),
                (404, "Unknown webhook, or another provider's"),
                (413, "Body over the limit"),
                (503, "Broker or webhook lookup unavailable; see Retry-After"),
            ]
        },
    )
    @documented(endpoint)
    async def receive(provider: str, webhook_id: str) -> None:
        """The body is the provider's delivery, read raw: its signature covers the bytes."""

    return router, RawRoute("POST", f"{API_PREFIX}{ROUTE}", endpoint)


@contextmanager
def _server_span(
    tracer: Tracer, headers: Mapping[str, str], provider_label: str
) -> Iterator[trace.Span]:
    """The request's server span, into which the bus writes the record's traceparent.

    FastAPI opens one itself when a request reaches the route through its stack (then this
    route only adds its attributes, rather than paying for a second span); on the raw route
    this opens it, continuing the caller's trace context as FastAPI would.
    """
    current = trace.get_current_span()
    if current.get_span_context().is_valid:
        current.set_attribute(PROVIDER_ATTRIBUTE, provider_label)
        yield current
        return
    with tracer.start_as_current_span(
        f"POST {API_PREFIX}{ROUTE}",
        context=extract(headers),
        kind=SpanKind.SERVER,
        attributes={
            "http.request.method": "POST",
            "http.route": f"{API_PREFIX}{ROUTE}",
            PROVIDER_ATTRIBUTE: provider_label,
        },
    ) as span:
        yield span


def _end(span: trace.Span, status: int) -> None:
    span.set_attribute("http.response.status_code", status)
    if status >= 500:
        span.set_status(Status(StatusCode.ERROR))


def _report(failure: Failure, provider_label: str, webhook_id: str, error: Exception) -> None:
    # Ids and outcome only: never headers or the body, where signatures and secrets travel.
    level = logging.WARNING if failure.status >= 500 else logging.INFO
    log.log(
        level,
        "webhook delivery refused: %s",
        failure.outcome,
        extra={
            "provider": provider_label,
            "webhook_id": webhook_id if is_webhook_id(webhook_id) else "<malformed>",
            "status": failure.status,
            "reason": type(error).__name__,
        },
    )
