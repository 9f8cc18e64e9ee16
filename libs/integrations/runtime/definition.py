from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from integrations.bus import Bus
from integrations.runtime.settings import CommonSettings
from integrations.runtime.unit import ServiceUnit
from integrations.storage import Database, open_database

SettingsT = TypeVar("SettingsT", bound=CommonSettings)


class Dependencies:
    """What a host hands a service's bootstrap: the bus, and its own database on request.

    The host closes every database it opened here after the service stops.
    """

    def __init__(self, bus: Bus, database_url: str) -> None:
        self.bus = bus
        self._database_url = database_url
        self._opened: list[Database] = []

    def database(self, name: str) -> Database:
        database = open_database(self._database_url, name=name)
        self._opened.append(database)
        return database

    async def close(self) -> None:
        for database in self._opened:
            await database.close()
        self._opened.clear()


@dataclass(frozen=True)
class ServiceDefinition(Generic[SettingsT]):
    """A service as the hosts see it: its name, its settings class and its composition root."""

    name: str
    settings_class: type[SettingsT]
    build: Callable[[SettingsT, Dependencies], ServiceUnit]

    def load_settings(self, **overrides: Any) -> SettingsT:
        """From the environment; `overrides` win over it (the embedded host's choices)."""
        return self.settings_class(**overrides)
