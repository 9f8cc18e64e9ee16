import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from integrations.contracts import (
    InvalidHeaders,
    WebhookEventReceived,
    build_headers,
    is_valid_traceparent,
    is_valid_tracestate,
    parse_headers,
)
from tests.unit.contracts.samples import NOW, SAMPLE_BY_TYPE

pytestmark = pytest.mark.unit

EVENT = SAMPLE_BY_TYPE[WebhookEventReceived]
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
SOURCE = "/integrations/ingress"


def test_builds_cloudevents_binary_mode_headers() -> None:
    headers = dict(build_headers(EVENT, source=SOURCE, event_id="e-1", time=NOW))

    assert headers == {
        "ce_specversion": b"1.0",
        "ce_id": b"e-1",
        "ce_type": b"integrations.webhook-event.received.v1",
        "ce_source": b"/integrations/ingress",
        "ce_time": b"2025-01-02T03:04:05.678000Z",
        "content-type": b"application/json",
    }


def test_defaults_to_a_uuid4_id_and_the_current_time() -> None:
    before = datetime.now(UTC)

    attributes = parse_headers(build_headers(EVENT, source=SOURCE))

    assert uuid.UUID(attributes.id).version == 4
    assert attributes.time is not None
    assert before <= attributes.time <= datetime.now(UTC)


def test_headers_round_trip_with_trace_context() -> None:
    headers = build_headers(
        EVENT,
        source=SOURCE,
        event_id="e-1",
        time=NOW.astimezone(timezone(timedelta(hours=-5))),
        traceparent=TRACEPARENT,
        tracestate="vendor=abc,other@tenant=x y",
    )

    attributes = parse_headers(headers)

    assert attributes.id == "e-1"
    assert attributes.type == WebhookEventReceived.ce_type
    assert attributes.source == SOURCE
    assert attributes.specversion == "1.0"
    assert attributes.time == NOW
    assert attributes.content_type == "application/json"
    assert attributes.traceparent == TRACEPARENT
    assert attributes.tracestate == "vendor=abc,other@tenant=x y"


def test_parses_str_values_mappings_and_any_name_case() -> None:
    headers = {
        "CE_SPECVERSION": "1.0",
        "ce_id": b"e-1",
        "Ce_Type": "t",
        "ce_source": "s",
        "ce_time": "2025-01-02T03:04:05+01:00",
        "binary": b"\xff\xfe",
        "nothing": None,
    }

    attributes = parse_headers(headers)

    assert (attributes.id, attributes.type, attributes.source) == ("e-1", "t", "s")
    assert attributes.time == datetime(2025, 1, 2, 2, 4, 5, tzinfo=UTC)
    assert attributes.traceparent is None


def test_the_last_of_repeated_headers_wins() -> None:
    headers = [*build_headers(EVENT, source=SOURCE, event_id="first"), ("ce_id", b"second")]

    assert parse_headers(headers).id == "second"


@pytest.mark.parametrize("missing", ["ce_specversion", "ce_id", "ce_type", "ce_source"])
def test_missing_required_attributes_are_rejected(missing: str) -> None:
    headers = [(n, v) for n, v in build_headers(EVENT, source=SOURCE) if n != missing]

    with pytest.raises(InvalidHeaders, match=missing):
        parse_headers(headers)


@pytest.mark.parametrize(
    ("name", "value", "match"),
    [
        ("ce_specversion", b"0.3", "specversion"),
        ("ce_time", b"yesterday", "RFC 3339"),
        ("ce_time", b"2025-01-02T03:04:05", "timezone"),
    ],
)
def test_malformed_attributes_are_rejected(name: str, value: bytes, match: str) -> None:
    headers = [(n, v) for n, v in build_headers(EVENT, source=SOURCE) if n != name]

    with pytest.raises(InvalidHeaders, match=match):
        parse_headers([*headers, (name, value)])


def test_an_invalid_trace_context_is_dropped_on_parse() -> None:
    headers = [
        *build_headers(EVENT, source=SOURCE),
        ("traceparent", b"00-not-a-trace"),
        ("tracestate", b"vendor=abc"),
    ]

    attributes = parse_headers(headers)

    assert attributes.traceparent is None
    assert attributes.tracestate is None


def test_an_invalid_tracestate_alone_is_dropped_on_parse() -> None:
    headers = [
        *build_headers(EVENT, source=SOURCE, traceparent=TRACEPARENT),
        ("tracestate", b"UPPER=abc"),
    ]

    attributes = parse_headers(headers)

    assert attributes.traceparent == TRACEPARENT
    assert attributes.tracestate is None


@pytest.mark.parametrize(
    "kwargs",
    [
        {"source": ""},
        {"source": SOURCE, "event_id": ""},
        {"source": SOURCE, "time": datetime(2025, 1, 1)},
        {"source": SOURCE, "traceparent": "00-abc"},
        {"source": SOURCE, "tracestate": "vendor=abc"},
        {"source": SOURCE, "traceparent": TRACEPARENT, "tracestate": "bad key=1"},
    ],
)
def test_build_refuses_bad_arguments(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        build_headers(EVENT, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        TRACEPARENT,
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
        # A future version may append fields; version 00 parsers must accept it.
        "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future",
        "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-09",
    ],
)
def test_valid_traceparents(value: str) -> None:
    assert is_valid_traceparent(value)


@pytest.mark.parametrize(
    "value",
    [
        "",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        "0-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        " 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        "00_4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7_01",
    ],
)
def test_invalid_traceparents(value: str) -> None:
    assert not is_valid_traceparent(value)


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("", True),
        ("congo=t61rcWkgMzE", True),
        ("rojo=00f067aa0ba902b7, congo=t61rcWkgMzE", True),
        ("tenant@vendor=value", True),
        ("Upper=1", False),
        ("dup=1,dup=2", False),
        ("novalue", False),
        ("k=a=b", False),
        ("k=inner space", True),
        ("k=a,b", False),
        (",".join(f"k{i}=v" for i in range(33)), False),
        (",".join(f"k{i}=v" for i in range(32)), True),
    ],
)
def test_tracestate_validation(value: str, valid: bool) -> None:
    assert is_valid_tracestate(value) is valid
