"""Record values ⇄ messages: compact JSON bodies, typed by the `ce_type` header."""

from typing import TypeVar

from pydantic import ValidationError

from integrations.contracts.cloudevents import CE_TYPE, Headers, header_map
from integrations.contracts.errors import InvalidMessage
from integrations.contracts.messages.base import Message
from integrations.contracts.registry import message_type_for

M = TypeVar("M", bound=Message)

_MAX_REPORTED_ERRORS = 10


def encode(message: Message) -> bytes:
    return message.model_dump_json().encode()


def decode(headers: Headers, value: bytes | None) -> Message:
    """The message a record holds, chosen by its `ce_type` header.

    Raises `UnknownMessageType` or `InvalidMessage` (both `DecodeError`): dead-letter those.
    Compacted topics' tombstones (null values) must be handled before decoding.
    """
    message_type = message_type_for(header_map(headers).get(CE_TYPE))
    return decode_as(message_type, value)


def decode_as(message_type: type[M], value: bytes | None) -> M:
    """Decode a body whose type the caller already knows (e.g. a single-type topic)."""
    if value is None:
        raise InvalidMessage(message_type.ce_type, "null value (a tombstone), not a message")
    try:
        return message_type.model_validate_json(value)
    except ValidationError as error:
        # Without the inputs: the reason ends up in logs and dead letters.
        raise InvalidMessage(message_type.ce_type, _summary(error)) from None


def _summary(error: ValidationError) -> str:
    details = error.errors(include_url=False, include_input=False, include_context=False)
    parts = [
        f"{'.'.join(str(part) for part in detail['loc']) or '<body>'}: {detail['msg']}"
        for detail in details[:_MAX_REPORTED_ERRORS]
    ]
    if len(details) > _MAX_REPORTED_ERRORS:
        parts.append(f"... {len(details) - _MAX_REPORTED_ERRORS} more")
    return "; ".join(parts)
