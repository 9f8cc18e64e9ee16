"""Request bodies to JSON objects, after verification. Every failure is `InvalidWebhookPayload`
(HTTP 400): nothing a sender puts in a body can make ingress answer 500."""

import json
import math
import re
from typing import Any, NoReturn
from urllib.parse import parse_qsl

from integrations.ingress.domain.types import Headers, JsonObject, header
from integrations.providers import InvalidWebhookPayload

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
_MAX_FORM_FIELDS = 1000
# A \uD800-\uDFFF escape: the only way a lone surrogate gets into parsed JSON text.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def is_form(headers: Headers) -> bool:
    content_type = header(headers, "content-type") or ""
    return content_type.split(";", 1)[0].strip().lower() == FORM_CONTENT_TYPE


def json_value(body: bytes | str) -> Any:
    """RFC 8259 JSON in UTF-8. NaN, infinities and lone surrogates parse in Python but cannot be
    re-encoded into the event message, so they are refused here rather than at publish time."""
    try:
        text = body.decode("utf-8") if isinstance(body, bytes) else body
        value = _DECODER.decode(text)
        if _SURROGATE_ESCAPE.search(text):
            # Paired surrogates merge into one character; a lone one cannot be encoded.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (ValueError, RecursionError) as error:  # JSONDecodeError/UnicodeError are ValueErrors
        raise InvalidWebhookPayload("The request body is not valid JSON.") from error
    return value


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):  # 1e999
        raise ValueError(f"{text} is out of range")
    return number


# One decoder: `json.loads` with hooks would build a new one (and its scanner) per call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, parse_float=_finite_float)


def json_object(body: bytes | str) -> JsonObject:
    """For providers that always send an object: anything else is malformed."""
    value = json_value(body)
    if not isinstance(value, dict):
        raise InvalidWebhookPayload("The request body is not a JSON object.")
    return value


def json_object_or_wrapped(body: bytes) -> JsonObject:
    """For senders we do not control (generic webhooks): an empty body is `{}` and any other
    JSON value is kept as `{"data": value}`, so the event payload is always an object."""
    if not body.strip():
        return {}
    value = json_value(body)
    return value if isinstance(value, dict) else {"data": value}


def form_fields(body: bytes) -> JsonObject:
    """`a=1&b=2&b=3` → `{"a": "1", "b": ["2", "3"]}`: single values stay strings."""
    try:
        pairs = parse_qsl(
            body.decode("utf-8"), keep_blank_values=True, max_num_fields=_MAX_FORM_FIELDS
        )
    except ValueError as error:  # bad UTF-8, too many fields
        raise InvalidWebhookPayload("The request body is not a valid form.") from error
    fields: JsonObject = {}
    for name, value in pairs:
        existing = fields.get(name)
        if existing is None:
            fields[name] = value
        elif isinstance(existing, list):
            existing.append(value)
        else:
            fields[name] = [existing, value]
    return fields


def form_payload_object(body: bytes) -> JsonObject:
    """A form whose `payload` field holds the JSON object (Slack interactions, GitHub hooks
    configured with the form content type)."""
    payload = form_fields(body).get("payload")
    if not isinstance(payload, str):
        raise InvalidWebhookPayload("The form has no single payload field.")
    return json_object(payload)


def body_object(headers: Headers, body: bytes) -> JsonObject:
    """A generic sender's body: a form when it says so, else JSON (wrapped when not an object)."""
    return form_fields(body) if is_form(headers) else json_object_or_wrapped(body)
