"""CloudEvents 1.0 Kafka binary-mode headers, plus W3C trace context.

The JSON body is the message itself; the event attributes travel as `ce_*` headers, so any
Kafka client in any language can route on `ce_type` without parsing the body.
"""

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

from integrations.contracts.errors import InvalidHeaders
from integrations.contracts.messages.base import Message

SPEC_VERSION: Final = "1.0"
CONTENT_TYPE: Final = "application/json"

CE_SPECVERSION: Final = "ce_specversion"
CE_ID: Final = "ce_id"
CE_TYPE: Final = "ce_type"
CE_SOURCE: Final = "ce_source"
CE_TIME: Final = "ce_time"
CONTENT_TYPE_HEADER: Final = "content-type"
TRACEPARENT: Final = "traceparent"
TRACESTATE: Final = "tracestate"

HeaderValue = bytes | str | None
Headers = Mapping[str, HeaderValue] | Iterable[tuple[str, HeaderValue]]


@dataclass(frozen=True, slots=True)
class CloudEventAttributes:
    id: str
    type: str
    source: str
    specversion: str = SPEC_VERSION
    time: datetime | None = None
    content_type: str | None = None
    traceparent: str | None = None
    tracestate: str | None = None


def build_headers(
    message: Message,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
    tracestate: str | None = None,
) -> list[tuple[str, bytes]]:
    """Headers for publishing `message`.

    `source` names the producer as a URI reference (e.g. `/integrations/ingress`); `time`
    defaults to now, `event_id` to a fresh uuid4.
    """
    if not source:
        raise ValueError("source must be a non-empty URI reference")
    if event_id is not None and not event_id:
        raise ValueError("event_id must not be empty")
    if time is not None and time.utcoffset() is None:
        raise ValueError("time must be timezone-aware")
    if traceparent is not None and not is_valid_traceparent(traceparent):
        raise ValueError(f"invalid W3C traceparent: {traceparent!r}")
    if tracestate is not None and (traceparent is None or not is_valid_tracestate(tracestate)):
        raise ValueError("tracestate needs a traceparent and must be a valid W3C tracestate")

    headers = [
        (CE_SPECVERSION, SPEC_VERSION),
        (CE_ID, event_id or str(uuid.uuid4())),
        (CE_TYPE, message.ce_type),
        (CE_SOURCE, source),
        (CE_TIME, format_time(time or datetime.now(UTC))),
        (CONTENT_TYPE_HEADER, CONTENT_TYPE),
    ]
    if traceparent is not None:
        headers.append((TRACEPARENT, traceparent))
    if tracestate is not None:
        headers.append((TRACESTATE, tracestate))
    return [(name, value.encode()) for name, value in headers]


def parse_headers(headers: Headers) -> CloudEventAttributes:
    """Read the attributes back; values may be bytes or str, names any case.

    Missing or malformed required attributes raise `InvalidHeaders`. An invalid trace
    context is dropped rather than rejected, as W3C Trace Context prescribes.
    """
    values = header_map(headers)

    def required(name: str) -> str:
        value = values.get(name)
        if not value:
            raise InvalidHeaders(f"missing CloudEvents header {name!r}")
        return value

    specversion = required(CE_SPECVERSION)
    if specversion != SPEC_VERSION:
        raise InvalidHeaders(f"unsupported CloudEvents specversion {specversion!r}")
    raw_time = values.get(CE_TIME)
    traceparent = values.get(TRACEPARENT)
    if traceparent is not None and not is_valid_traceparent(traceparent):
        traceparent = None
    tracestate = values.get(TRACESTATE)
    if traceparent is None or (tracestate is not None and not is_valid_tracestate(tracestate)):
        tracestate = None
    return CloudEventAttributes(
        id=required(CE_ID),
        type=required(CE_TYPE),
        source=required(CE_SOURCE),
        specversion=specversion,
        time=parse_time(raw_time) if raw_time else None,
        content_type=values.get(CONTENT_TYPE_HEADER),
        traceparent=traceparent,
        tracestate=tracestate,
    )


def header_map(headers: Headers) -> dict[str, str]:
    """Header names lowercased → values as text; the last of repeated names wins.

    Values that are null or not UTF-8 are left out: they cannot be attributes, and one
    foreign binary header must not make a record unreadable.
    """
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    result: dict[str, str] = {}
    for name, value in pairs:
        if isinstance(value, bytes):
            try:
                result[name.lower()] = value.decode()
            except UnicodeDecodeError:
                continue
        elif value is not None:
            result[name.lower()] = value
    return result


def format_time(value: datetime) -> str:
    """RFC 3339 in UTC with a `Z` suffix."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidHeaders(f"ce_time is not RFC 3339: {value!r}") from None
    if parsed.utcoffset() is None:
        raise InvalidHeaders(f"ce_time has no timezone: {value!r}")
    return parsed.astimezone(UTC)


_TRACEPARENT = re.compile(
    r"(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<parent_id>[0-9a-f]{16})"
    r"-(?P<flags>[0-9a-f]{2})(?P<rest>-.*)?"
)
_TRACESTATE_KEY = re.compile(
    r"[a-z][_0-9a-z\-*/]{0,255}|[a-z0-9][_0-9a-z\-*/]{0,240}@[a-z][_0-9a-z\-*/]{0,13}"
)
_TRACESTATE_VALUE = re.compile(r"[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]")
_TRACESTATE_MAX_MEMBERS = 32


def is_valid_traceparent(value: str) -> bool:
    """W3C Trace Context `traceparent`: version-traceid-parentid-flags, lowercase hex."""
    match = _TRACEPARENT.fullmatch(value)
    if match is None:
        return False
    version = match["version"]
    if version == "ff":
        return False
    # Version 00 has exactly four fields; later versions may append more (forward compatible).
    if version == "00" and match["rest"] is not None:
        return False
    return set(match["trace_id"]) != {"0"} and set(match["parent_id"]) != {"0"}


def is_valid_tracestate(value: str) -> bool:
    """W3C Trace Context `tracestate`: up to 32 `key=value` members, comma-separated."""
    members = [member.strip(" \t") for member in value.split(",")]
    members = [member for member in members if member]
    if len(members) > _TRACESTATE_MAX_MEMBERS:
        return False
    keys: set[str] = set()
    for member in members:
        key, sep, member_value = member.partition("=")
        if not sep or not _TRACESTATE_KEY.fullmatch(key) or key in keys:
            return False
        if not _TRACESTATE_VALUE.fullmatch(member_value):
            return False
        keys.add(key)
    return True
