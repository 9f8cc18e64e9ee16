import pytest

from integrations.contracts import (
    TOPICS,
    Message,
    message_types_of_topic,
    registered_types,
    topic_spec,
    topics,
)
from integrations.contracts.registry import CE_TYPE_PATTERN
from tests.unit.contracts.samples import SAMPLE_BY_TYPE

pytestmark = pytest.mark.unit

MIB = 1024 * 1024
DAY_MS = 24 * 60 * 60 * 1000
MESSAGE_TYPES = list(registered_types().values())


def _topic_constants() -> set[str]:
    return {
        value
        for name, value in vars(topics).items()
        if name.isupper() and isinstance(value, str) and value.count(".") >= 2
    }


def test_the_table_covers_every_topic_constant_once() -> None:
    names = [spec.name for spec in TOPICS]

    assert len(names) == len(set(names))
    assert set(names) == _topic_constants()
    assert len(names) == 9


def test_every_message_type_belongs_to_exactly_one_topic() -> None:
    for message_type in MESSAGE_TYPES:
        carrying = [spec.name for spec in TOPICS if message_type in spec.message_types]
        assert carrying == [message_type.topic], message_type.__name__


def test_every_topic_carries_messages() -> None:
    for spec in TOPICS:
        assert spec.message_types, spec.name
        assert message_types_of_topic(spec.name) == spec.message_types


@pytest.mark.parametrize("message_type", MESSAGE_TYPES, ids=lambda t: t.__name__)
def test_ce_types_follow_the_naming_scheme(message_type: type[Message]) -> None:
    match = CE_TYPE_PATTERN.fullmatch(message_type.ce_type)

    assert match is not None
    assert message_type.topic.startswith(match["namespace"] + ".")
    assert message_type.ce_type.endswith("." + message_type.topic.rsplit(".", 1)[1])


@pytest.mark.parametrize("message_type", MESSAGE_TYPES, ids=lambda t: t.__name__)
def test_every_message_has_its_topics_key_field(message_type: type[Message]) -> None:
    spec = topic_spec(message_type.topic)
    sample = SAMPLE_BY_TYPE[message_type]

    assert spec.key_field in message_type.model_fields
    assert sample.partition_key() == getattr(sample, spec.key_field)


def test_webhook_events_settings() -> None:
    spec = topic_spec(topics.WEBHOOK_EVENTS)

    assert spec.partitions == 12
    assert spec.retention_ms == 7 * DAY_MS
    assert spec.max_message_bytes is not None
    assert spec.max_message_bytes >= 8 * MIB > topics.INGRESS_BODY_LIMIT_BYTES
    assert spec.key_field == "webhook_id"


def test_execution_requests_fit_a_full_webhook_payload() -> None:
    requests = topic_spec(topics.GRAPH_EXECUTION_REQUESTS)
    events = topic_spec(topics.WEBHOOK_EVENTS)

    assert requests.max_message_bytes == events.max_message_bytes


def test_dead_letters_fit_a_base64_encoded_webhook_event() -> None:
    dlq = topic_spec(topics.WEBHOOK_EVENTS_DLQ)
    events = topic_spec(topics.WEBHOOK_EVENTS)

    assert dlq.retention_ms == 30 * DAY_MS
    assert dlq.max_message_bytes is not None
    assert events.max_message_bytes is not None
    assert dlq.max_message_bytes >= events.max_message_bytes * 4 // 3


def test_webhooks_topic_is_compacted() -> None:
    spec = topic_spec(topics.WEBHOOKS)

    assert spec.kafka_config() == {"cleanup.policy": "compact"}


def test_credentials_commands_are_kept_one_day() -> None:
    assert topic_spec(topics.CREDENTIALS_COMMANDS).retention_ms == DAY_MS


@pytest.mark.parametrize(
    "name",
    [
        topics.CREDENTIALS_EVENTS,
        topics.TRIGGER_COMMANDS,
        topics.TRIGGER_EVENTS,
        topics.GRAPH_EXECUTION_REQUESTS,
        topics.GRAPH_EXECUTION_RESULTS,
    ],
)
def test_other_topics_are_kept_seven_days(name: str) -> None:
    assert topic_spec(name).kafka_config()["retention.ms"] == str(7 * DAY_MS)
    assert topic_spec(name).cleanup_policy == "delete"


def test_kafka_config_lists_every_setting_as_strings() -> None:
    config = topic_spec(topics.WEBHOOK_EVENTS).kafka_config()

    assert config == {
        "cleanup.policy": "delete",
        "retention.ms": str(7 * DAY_MS),
        "max.message.bytes": str(8 * MIB),
    }


def test_an_unknown_topic_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="nope"):
        topic_spec("nope")
