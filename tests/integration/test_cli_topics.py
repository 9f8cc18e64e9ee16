"""`integrations topics create` provisions the contract's topics on a real broker."""

import asyncio

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from typer.testing import CliRunner

from integrations.cli.main import app
from integrations.contracts import topics

pytestmark = pytest.mark.integration


async def describe(bootstrap: str, name: str) -> tuple[int, dict[str, str]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([name])
        [configs] = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, name)])
    finally:
        await admin.close()
    return len(described["partitions"]), {e[0]: e[1] for e in configs.resources[0][4]}


def test_topics_create_provisions_every_topic_with_its_settings_and_is_idempotent(
    kafka_bootstrap: str,
) -> None:
    runner = CliRunner()
    first = runner.invoke(app, ["topics", "create", "--bootstrap-servers", kafka_bootstrap])
    again = runner.invoke(app, ["topics", "create", "--bootstrap-servers", kafka_bootstrap])
    assert first.exit_code == 0, first.output
    assert again.exit_code == 0, again.output
    # Other tests of the session may have created some topics already; the second run
    # must find all of them.
    assert again.output.count("exists") == len(topics.TOPICS)

    events_partitions, events_config = asyncio.run(describe(kafka_bootstrap, topics.WEBHOOK_EVENTS))
    spec = topics.topic_spec(topics.WEBHOOK_EVENTS)
    assert events_partitions == spec.partitions
    assert int(events_config["max.message.bytes"]) >= 5 * 1024 * 1024
    _, webhooks_config = asyncio.run(describe(kafka_bootstrap, topics.WEBHOOKS))
    assert webhooks_config["cleanup.policy"] == "compact"
