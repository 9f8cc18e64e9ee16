"""Value objects shared by several message families."""

from pydantic import Field

from integrations.contracts.messages.base import Part
from integrations.contracts.types import (
    CredentialsId,
    CredentialsType,
    EventType,
    ProviderName,
    Title,
)


class EventFilter(Part):
    """A trigger's event filter (SPEC RT-11).

    A trigger without a filter matches every event; with one, it matches the event types
    `event_format` yields for every choice set to true.
    """

    input_name: str = Field(
        min_length=1,
        max_length=128,
        description="Name of the trigger block's input that holds the filter (e.g. `events`).",
    )
    event_format: str = Field(
        min_length=1,
        max_length=256,
        pattern=r"\{event\}",
        description="Template of matching event types; `{event}` is replaced by each choice "
        "(e.g. `pull_request.{event}`).",
    )
    choices: dict[str, bool] = Field(
        description="The filter input's value: event name → whether it triggers.",
    )

    def event_types(self) -> frozenset[EventType]:
        # str.replace, not str.format: choices come from user input and may contain braces.
        return frozenset(
            self.event_format.replace("{event}", name)
            for name, selected in self.choices.items()
            if selected
        )

    def matches(self, event_type: str) -> bool:
        return event_type in self.event_types()


class CredentialsReference(Part):
    """Points at stored credentials (a graph's credentials input); never holds a secret."""

    id: CredentialsId = Field(description="Id of the credentials.")
    provider: ProviderName = Field(description="Provider the credentials belong to.")
    type: CredentialsType = Field(description="Kind of credentials.")
    title: Title | None = Field(default=None, description="Title shown to the user, if any.")
