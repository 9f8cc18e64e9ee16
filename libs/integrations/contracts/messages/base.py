"""Base classes of every message on the bus.

Events are read tolerantly (`extra="ignore"`) so a consumer deployed before a producer keeps
working when fields are added; commands are strict (`extra="forbid"`) because a field the
handler does not know is a producer bug, not an evolution. Breaking changes get a new topic
version (and a new `ce_type` major).
"""

import uuid
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from integrations.contracts.topics import topic_spec
from integrations.contracts.types import CommandId


class Message(BaseModel):
    model_config = ConfigDict(frozen=True)

    # `<namespace>.<entity>.<action>.v<major>`, see registry.CE_TYPE_PATTERN.
    ce_type: ClassVar[str]
    # Name of the topic (one of the `topics` constants) this message is published on.
    topic: ClassVar[str]

    def partition_key(self) -> str | None:
        """The Kafka record key: the value of the topic's key field (None: no key)."""
        value = getattr(self, topic_spec(self.topic).key_field)
        return None if value is None else str(value)


class Event(Message):
    model_config = ConfigDict(extra="ignore")


class Command(Message):
    model_config = ConfigDict(extra="forbid")

    command_id: CommandId = Field(
        default_factory=lambda: str(uuid.uuid4()),
        description=(
            "Unique id of this command; handlers are idempotent by it, and the events a "
            "command causes carry it back for correlation. Keep it when re-sending."
        ),
    )


class Part(BaseModel):
    """A value object nested inside messages; tolerant like events, for the same reason."""

    model_config = ConfigDict(frozen=True, extra="ignore")
