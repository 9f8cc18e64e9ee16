"""Errors raised while reading records off the bus.

ContractError
├── InvalidHeaders        CloudEvents/trace headers missing or malformed
└── DecodeError           the record cannot become a message: dead-letter it
    ├── UnknownMessageType    no ce_type header, or a ce_type no message is registered for
    └── InvalidMessage        body is not JSON, not an object, fails validation, or is null
"""

# The leaf names read as the condition (as the services' handlers and the DLQ report them),
# hence no `Error` suffix.


class ContractError(Exception):
    pass


class InvalidHeaders(ContractError, ValueError):
    pass


class DecodeError(ContractError):
    pass


class UnknownMessageType(DecodeError):
    def __init__(self, ce_type: str | None) -> None:
        self.ce_type = ce_type
        detail = "record has no ce_type header" if ce_type is None else f"{ce_type!r}"
        super().__init__(f"unknown message type: {detail}")


class InvalidMessage(DecodeError):
    def __init__(self, ce_type: str, reason: str) -> None:
        self.ce_type = ce_type
        self.reason = reason
        super().__init__(f"invalid {ce_type} message: {reason}")
