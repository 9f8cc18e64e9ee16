"""The message bus: one port, two adapters.

- `ports`: `Bus`, `Record`, `Handler`, `View`, `Expectation` (what services code against);
- `memory.InMemoryBus`: the embedded default and the unit tests' bus;
- `kafka.KafkaBus` and `kafka.make_kafka_broker`: Apache Kafka through FastStream/aiokafka;
- `admin.ensure_topics`: provisioning from the contracts' topic table.

Import the Kafka adapter and admin helper from their modules.
"""

from integrations.bus.errors import BusError, BusUnavailable, PublishRejected
from integrations.bus.memory import InMemoryBus
from integrations.bus.ports import Bus, Expectation, Handler, Header, Predicate, Record, View

__all__ = [
    "Bus",
    "BusError",
    "BusUnavailable",
    "Expectation",
    "Handler",
    "Header",
    "InMemoryBus",
    "Predicate",
    "PublishRejected",
    "Record",
    "View",
]
