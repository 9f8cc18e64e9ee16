"""Topic provisioning for `integrations topics create` (and the test harness)."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError, for_code

_MAX_REPLICATION = 3


class TopicSpecLike(Protocol):
    """What provisioning reads from a topic declaration (`contracts.topics.TopicSpec`)."""

    @property
    def name(self) -> str: ...

    @property
    def partitions(self) -> int: ...

    def kafka_config(self) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class TopicOutcome:
    name: str
    outcome: Literal["created", "exists"]


async def ensure_topics(
    bootstrap_servers: str,
    specs: Iterable[TopicSpecLike],
    *,
    replication_factor: int | None = None,
    overrides: Mapping[str, Mapping[str, str]] | None = None,
    request_timeout_s: float = 30.0,
) -> list[TopicOutcome]:
    """Create the topics that do not exist; existing ones are left as they are.

    `replication_factor` defaults to min(3, brokers in the cluster). `overrides` adds or
    replaces topic configs by topic name (e.g. a shorter retention in a test cluster).
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=[s.strip() for s in bootstrap_servers.split(",") if s.strip()],
        request_timeout_ms=int(request_timeout_s * 1000),
    )
    try:
        await admin.start()
        if replication_factor is None:
            cluster = await admin.describe_cluster()
            replication_factor = min(_MAX_REPLICATION, len(cluster["brokers"]))
        new_topics = [
            NewTopic(
                name=spec.name,
                num_partitions=spec.partitions,
                replication_factor=replication_factor,
                topic_configs={**spec.kafka_config(), **(overrides or {}).get(spec.name, {})},
            )
            for spec in specs
        ]
        if not new_topics:
            return []
        response = await admin.create_topics(new_topics)
    finally:
        await admin.close()
    outcomes = []
    for topic_error in response.topic_errors:
        name, code = topic_error[0], topic_error[1]
        if code == 0:
            outcomes.append(TopicOutcome(name, "created"))
        elif code == TopicAlreadyExistsError.errno:
            outcomes.append(TopicOutcome(name, "exists"))
        else:
            error: type[KafkaError] = for_code(code)
            message = topic_error[2] if len(topic_error) > 2 else ""
            raise error(f"creating topic {name}: {message}")
    return outcomes
