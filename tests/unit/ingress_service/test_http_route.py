"""The ingress route over HTTP (ASGI, in process): statuses, the error shape, metrics, spans."""

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from integrations.bus import InMemoryBus, Record
from integrations.contracts import topics
from integrations.ingress.entrypoints.http import build_routes
from integrations.ingress.handlers import WebhookLookupUnavailable
from integrations.web import install_error_handlers
from integrations.web.raw_routes import RawRoutingApp
from tests.unit.ingress_service.fixtures import (
    PR_BODY,
    SECRET,
    FakeLookup,
    collaborators,
    github_headers,
    metrics,
    points,
    slack_headers,
    webhook,
)

pytestmark = pytest.mark.unit

LIMIT = 4096
URL = "/api/integrations/github/webhooks/wh-1/ingress"


@dataclass
class Ingress:
    client: httpx.AsyncClient
    bus: InMemoryBus
    lookup: FakeLookup
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader

    def published(self) -> list[Record]:
        return [r for partition in self.bus.log_of(topics.WEBHOOK_EVENTS) for r in partition]


@pytest.fixture(params=["raw", "through_fastapi"])
async def ingress(request: pytest.FixtureRequest) -> AsyncIterator[Ingress]:
    """The route as hosts serve it (ahead of FastAPI), and as FastAPI routes it."""
    bus = InMemoryBus()
    lookup = FakeLookup(
        webhook(), webhook("wh-slack", provider="slack"), webhook("wh-moved", sealed_for="x")
    )
    instruments, reader = metrics()
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    router, raw_route = build_routes(
        collaborators(bus, lookup),
        metrics=instruments,
        tracer=tracer_provider.get_tracer("test"),
        max_body_bytes=LIMIT,
        retry_after_s=5,
    )
    # FastAPI's own tracing off: it would follow whichever global provider an earlier test
    # set; the route then opens the server span itself (see the FastAPI-span test below).
    app = RawRoutingApp(telemetry={"tracing": False, "metrics": False, "logs": False})
    if request.param == "raw":
        app.raw_routes = (raw_route,)
    install_error_handlers(app)
    app.include_router(router)
    await bus.start()
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield Ingress(client, bus, lookup, exporter, reader)
    await bus.stop()
    tracer_provider.shutdown()


async def post(
    ingress: Ingress, body: bytes = PR_BODY, headers: dict[str, str] | None = None, url: str = URL
) -> httpx.Response:
    return await ingress.client.post(
        url, content=body, headers=github_headers(body) if headers is None else headers
    )


def requests_by_outcome(ingress: Ingress) -> dict[tuple[str, str], int]:
    return {
        (attributes["provider"], attributes["outcome"]): point.count
        for attributes, point in points(ingress.metrics, "integrations.ingress.request.duration")
    }


def assert_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str)


async def test_answers_200_only_after_the_event_is_published(ingress: Ingress) -> None:
    response = await post(ingress)

    assert response.status_code == 200
    [record] = ingress.published()
    assert response.json() == {
        "status": "accepted",
        "event_id": json.loads(record.value or b"")["event_id"],
    }
    assert record.key == "wh-1"
    assert requests_by_outcome(ingress) == {("github", "accepted"): 1}


async def test_the_record_carries_the_trace_of_the_requests_server_span(ingress: Ingress) -> None:
    await post(ingress)

    [span] = ingress.spans.get_finished_spans()
    assert span.kind == trace.SpanKind.SERVER
    assert span.attributes is not None
    assert span.attributes["http.response.status_code"] == 200
    assert (
        span.attributes["http.route"]
        == "/api/integrations/{provider}/webhooks/{webhook_id}/ingress"
    )
    context = span.get_span_context()
    assert context is not None
    [record] = ingress.published()
    traceparent = (record.header("traceparent") or b"").decode()
    assert traceparent.startswith(f"00-{context.trace_id:032x}-{context.span_id:016x}-")


async def test_a_callers_trace_context_is_continued(ingress: Ingress) -> None:
    incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    await post(ingress, headers={**github_headers(PR_BODY), "traceparent": incoming})

    [span] = ingress.spans.get_finished_spans()
    assert span.parent is not None
    assert span.parent.trace_id == 0x0AF7651916CD43DD8448EB211C80319C
    assert span.parent.span_id == 0xB7AD6B7169203331


async def test_fastapis_own_server_span_is_used_rather_than_a_second_one() -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    bus = InMemoryBus()
    instruments, _ = metrics()
    app = FastAPI(
        telemetry={"tracer_provider": tracer_provider, "operation_spans": False, "metrics": False}
    )
    router, _ = build_routes(
        collaborators(bus, FakeLookup(webhook())),
        metrics=instruments,
        tracer=tracer_provider.get_tracer("test"),
        max_body_bytes=LIMIT,
        retry_after_s=5,
    )
    app.include_router(router)
    await bus.start()
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://test"
        ) as client:
            response = await client.post(URL, content=PR_BODY, headers=github_headers(PR_BODY))
    finally:
        await bus.stop()
        tracer_provider.shutdown()

    assert response.status_code == 200
    [server] = [s for s in exporter.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert server.attributes is not None
    assert server.attributes["integrations.provider"] == "github"
    context = server.get_span_context()
    assert context is not None
    [record] = [r for p in bus.log_of(topics.WEBHOOK_EVENTS) for r in p]
    assert (record.header("traceparent") or b"").decode().split("-")[
        1
    ] == f"{context.trace_id:032x}"


async def test_an_unknown_webhook_is_404(ingress: Ingress) -> None:
    response = await post(ingress, url="/api/integrations/github/webhooks/wh-nope/ingress")
    assert_error(response, 404, "webhook_not_found")
    assert requests_by_outcome(ingress) == {("github", "unknown_webhook"): 1}


async def test_a_provider_mismatch_is_the_same_404_as_an_unknown_webhook(ingress: Ingress) -> None:
    unknown = await post(ingress, url="/api/integrations/github/webhooks/wh-nope/ingress")
    mismatch = await post(ingress, url="/api/integrations/stripe/webhooks/wh-1/ingress")
    assert_error(mismatch, 404, "webhook_not_found")
    assert mismatch.json() == unknown.json()


async def test_a_made_up_provider_is_counted_as_unknown(ingress: Ingress) -> None:
    await post(ingress, url="/api/integrations/made-up-1/webhooks/wh-1/ingress")
    assert requests_by_outcome(ingress) == {("unknown", "unknown_webhook"): 1}


async def test_a_bad_signature_is_403_and_counted(ingress: Ingress) -> None:
    response = await post(ingress, headers=github_headers(PR_BODY, secret="wrong"))

    assert_error(response, 403, "invalid_signature")
    assert ingress.published() == []
    [(attributes, point)] = points(ingress.metrics, "integrations.ingress.verification_failures")
    assert (attributes, point.value) == ({"provider": "github"}, 1)


async def test_malformed_json_is_400(ingress: Ingress) -> None:
    body = b"{not json"
    response = await post(ingress, body)
    assert_error(response, 400, "invalid_payload")
    assert ingress.published() == []


async def test_a_declared_body_over_the_limit_is_413(ingress: Ingress) -> None:
    body = b'{"a": "' + b"x" * LIMIT + b'"}'
    response = await post(ingress, body)
    assert_error(response, 413, "payload_too_large")
    assert ingress.published() == []


async def test_a_streamed_body_is_cut_off_at_the_limit(ingress: Ingress) -> None:
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 100:  # bounded, in case reading never stops
            sent += 1
            yield b"x" * 1024

    # No Content-Length: the reader has only the bytes themselves to go by.
    response = await ingress.client.post(URL, content=endless(), headers=github_headers(b""))

    assert_error(response, 413, "payload_too_large")
    assert sent <= LIMIT // 1024 + 2


async def test_an_unavailable_broker_is_503_with_retry_after(ingress: Ingress) -> None:
    await ingress.bus.stop()

    response = await post(ingress)

    assert_error(response, 503, "broker_unavailable")
    assert response.headers["retry-after"] == "5"
    assert requests_by_outcome(ingress) == {("github", "broker_unavailable"): 1}


async def test_an_unavailable_lookup_is_503_with_retry_after(ingress: Ingress) -> None:
    ingress.lookup.error = WebhookLookupUnavailable("credentials answered 500")

    response = await post(ingress)

    assert_error(response, 503, "webhook_lookup_unavailable")
    assert response.headers["retry-after"] == "5"


async def test_slack_url_verification_is_answered_with_its_challenge(ingress: Ingress) -> None:
    body = json.dumps({"type": "url_verification", "challenge": "ch-123"}).encode()
    response = await post(
        ingress, body, slack_headers(body), "/api/integrations/slack/webhooks/wh-slack/ingress"
    )

    assert response.status_code == 200
    assert response.json() == {"challenge": "ch-123"}
    assert ingress.published() == []
    assert requests_by_outcome(ingress) == {("slack", "handshake"): 1}


async def test_an_unexpected_error_is_a_bare_500(ingress: Ingress) -> None:
    ingress.lookup.error = RuntimeError(f"boom with {SECRET}")

    response = await post(ingress)

    assert_error(response, 500, "internal_error")
    assert SECRET not in response.text
    [span] = ingress.spans.get_finished_spans()
    assert span.status.status_code == trace.StatusCode.ERROR


async def test_secrets_and_signatures_never_reach_responses_or_logs(
    ingress: Ingress, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = github_headers(PR_BODY)
    forged = github_headers(PR_BODY, secret="attacker-guess")
    responses = [
        await post(ingress, headers=good),
        await post(ingress, headers=forged),
        await post(ingress, headers=good, url="/api/integrations/github/webhooks/wh-moved/ingress"),
        await post(ingress, b"{bad", github_headers(b"{bad")),
    ]

    assert [r.status_code for r in responses] == [200, 403, 500, 400]
    signatures = [good["X-Hub-Signature-256"], forged["X-Hub-Signature-256"]]
    for text in [*(r.text for r in responses), *(str(vars(rec)) for rec in caplog.records)]:
        assert SECRET not in text
        assert not any(signature in text for signature in signatures)
    [record] = ingress.published()
    assert SECRET.encode() not in (record.value or b"")
    assert not any(signature.encode() in (record.value or b"") for signature in signatures)
