"""`GET /metrics`: the services' own instruments and the HTTP server's, in Prometheus text.

The names below are what operators alert on (docs/operations.md): renaming an instrument
in an adapter must show up here, not as a silently dead alert.
"""

from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from integrations.contracts import topics
from tests.unit.embedded.platform_session import (
    activate_manual_webhook,
    embedded_session,
    settle,
)

pytestmark = [pytest.mark.unit, pytest.mark.usefixtures("fresh_telemetry_globals")]


def samples(text: str) -> dict[str, list[dict[str, str]]]:
    """Sample name -> the label sets it was reported with."""
    found: dict[str, list[dict[str, str]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(dict(sample.labels))
    return found


async def test_metrics_show_ingress_dispatcher_and_http_server_instruments(
    tmp_path: Path,
) -> None:
    async with embedded_session(tmp_path) as session:
        plain = await activate_manual_webhook(session)
        signed = await activate_manual_webhook(session, provider="standard_webhook")
        client, bus = session.client, session.platform.bus
        assert (await client.post(plain, json={"hello": "world"})).status_code == 200
        assert (await client.post(signed, json={"forged": True})).status_code == 403
        await settle(session)
        # The same event again is a duplicate; a record that is no event is dead-lettered.
        [delivered] = [record for part in bus.log_of(topics.WEBHOOK_EVENTS) for record in part]
        await bus.publish_raw(
            topics.WEBHOOK_EVENTS, delivered.key, delivered.value, delivered.headers
        )
        await bus.publish_raw(topics.WEBHOOK_EVENTS, delivered.key, b"not an event")
        await settle(session)
        response = await client.get("/metrics")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    found = samples(response.text)
    requests = found["integrations_ingress_request_duration_seconds_count"]
    assert {"provider": "generic_webhook", "outcome": "accepted"}.items() <= requests[0].items()
    assert any(labels["provider"] == "standard_webhook" for labels in requests)
    assert found["integrations_ingress_verification_failures_total"][0]["provider"] == (
        "standard_webhook"
    )
    for name in (
        "dispatcher_events_consumed_total",
        "dispatcher_requests_dispatched_total",
        "dispatcher_event_duration_seconds_bucket",
        "dispatcher_consumer_lag_seconds_bucket",
    ):
        assert name in found, name
    assert found["dispatcher_events_skipped_total"][0]["reason"] == "duplicate"
    assert "error_type" in found["dispatcher_events_dead_lettered_total"][0]
    # The ingress route answers ahead of FastAPI's stack and times itself (above);
    # FastAPI's instruments time every other route.
    served = found["http_server_request_duration_seconds_count"]
    routes = {labels.get("http_route") for labels in served}
    assert "/internal/triggers/activate-node" in routes


async def test_metrics_need_no_token_and_stay_out_of_the_api_document(tmp_path: Path) -> None:
    async with embedded_session(tmp_path) as session:
        response = await session.client.get("/metrics")
        document = (await session.client.get("/openapi.json")).json()
    assert response.status_code == 200
    assert "/metrics" not in document["paths"]
