"""The dispatcher on the real broker and the MongoDB-wire server: dead letters and replay,
executor rejections. The service runs in this process (its bus wrapped where a test injects
a fault); the failover test runs it as separate processes."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from pymongo import MongoClient
from typer.testing import CliRunner

from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from integrations.cli import dlq
from integrations.contracts import (
    DeactivatePresetTrigger,
    DeadLetter,
    ExecutionSource,
    GraphExecutionRejected,
    GraphExecutionRequested,
    Message,
    UnlinkGraphTriggers,
    build_headers,
    topics,
)
from integrations.contracts.topics import LARGE_MESSAGE_BYTES
from integrations.dispatcher.bootstrap import SERVICE
from integrations.dispatcher.domain.deliveries import Outcome
from integrations.dispatcher.domain.fan_out import plan_dispatch
from integrations.runtime.definition import Dependencies
from integrations.storage import open_database
from tests.unit.dispatcher.kafka_kit import Tail, provision_topics, start_group_at_end
from tests.unit.dispatcher.kit import UNAVAILABLE, FlakyBus, event, node, preset, webhook

pytestmark = pytest.mark.integration

WITHIN = 60.0
SOURCE = "/integrations/tests"


@dataclass
class Running:
    run: str
    bus: KafkaBus
    flaky: FlakyBus
    database_url: str
    database_name: str

    @property
    def webhook_id(self) -> str:
        return f"wh-{self.run}"

    @property
    def user_id(self) -> str:
        return f"user-{self.run}"

    async def publish(self, message: Message) -> None:
        await self.bus.publish(message.topic, message, source=SOURCE)

    def mine(self, message: Message) -> bool:
        return getattr(message, "webhook_id", None) == self.webhook_id or (
            isinstance(message, GraphExecutionRequested | GraphExecutionRejected)
            and message.source.webhook_id == self.webhook_id
        )


@pytest.fixture
async def dispatcher(kafka_bootstrap: str, mongodb_uri: str) -> AsyncIterator[Running]:
    run = uuid.uuid4().hex[:10]
    await provision_topics(kafka_bootstrap)
    groups = {"consumer_group": f"dispatcher-{run}", "results_consumer_group": f"results-{run}"}
    await start_group_at_end(kafka_bootstrap, groups["consumer_group"], topics.WEBHOOK_EVENTS)
    await start_group_at_end(
        kafka_bootstrap, groups["results_consumer_group"], topics.GRAPH_EXECUTION_RESULTS
    )
    bus = KafkaBus(KafkaSettings(bootstrap_servers=kafka_bootstrap, client_id=f"dispatcher-{run}"))
    flaky = FlakyBus(bus)
    settings = SERVICE.load_settings(
        database_url=mongodb_uri,
        database_name=f"dispatcher_{run}",
        jwt_secret="s" * 32,
        retry_max_attempts=3,
        retry_initial_delay_s=0.05,
        retry_max_delay_s=0.2,
        **groups,
    )
    deps = Dependencies(flaky, mongodb_uri)
    unit = SERVICE.build(settings, deps)
    await flaky.start()
    await unit.on_start()
    try:
        yield Running(run, bus, flaky, mongodb_uri, settings.database_name)
    finally:
        await unit.on_stop()
        await flaky.stop()
        await deps.close()
        client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
        with client:
            client.drop_database(settings.database_name)


async def delivery_outcome(running: Running, event_id: str) -> str | None:
    database = open_database(running.database_url, name=running.database_name)
    try:
        doc = await database.collection("deliveries").get(f"{running.webhook_id} {event_id}")
    finally:
        await database.close()
    return None if doc is None else str(doc["outcome"])


async def test_a_target_that_always_fails_ends_in_the_dlq_and_replay_brings_it_back(
    dispatcher: Running, kafka_bootstrap: str
) -> None:
    broken = f"graph-broken-{dispatcher.run}"
    state = webhook(
        dispatcher.webhook_id,
        user_id=dispatcher.user_id,
        nodes=[node("n-ok", graph_id=f"graph-ok-{dispatcher.run}")],
        presets=[preset("p-broken", graph_id=broken)],
    )
    received = event("ev-1", webhook_id=dispatcher.webhook_id, user_id=dispatcher.user_id)
    expected = {r.graph_id: r.request_id for r in plan_dispatch(received, state).requests}
    dispatcher.flaky.failing[broken] = UNAVAILABLE

    async with (
        Tail(kafka_bootstrap, topics.GRAPH_EXECUTION_REQUESTS, dispatcher.mine) as requests,
        Tail(kafka_bootstrap, topics.WEBHOOK_EVENTS_DLQ, dispatcher.mine) as letters,
    ):
        await dispatcher.publish(state)
        await dispatcher.publish(received)
        await letters.wait_until(lambda: bool(letters.records), within=WITHIN)

        [letter] = letters.messages(DeadLetter)
        assert (letter.attempts, letter.error_type) == (3, "TargetsFailed")
        assert expected[broken] in letter.error
        assert letter.original_topic == topics.WEBHOOK_EVENTS
        await requests.wait_until(lambda: bool(requests.records), within=WITHIN)
        assert [r.request_id for r in requests.messages(GraphExecutionRequested)] == [
            expected[f"graph-ok-{dispatcher.run}"]
        ]  # the other target was not held up
        assert await delivery_outcome(dispatcher, "ev-1") == Outcome.DEAD_LETTERED

        dispatcher.flaky.failing.clear()  # the executor's side is fixed; the operator replays
        result = await asyncio.to_thread(
            CliRunner().invoke,
            dlq.app,
            ["replay", "--webhook-id", dispatcher.webhook_id, "--since", "10m",
             "--bootstrap-servers", kafka_bootstrap],
        )  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "replayed 1 of" in result.output

        def broken_target_arrived() -> bool:
            ids = {r.request_id for r in requests.messages(GraphExecutionRequested)}
            return expected[broken] in ids

        await requests.wait_until(broken_target_arrived, within=WITHIN)
    # Replayed with their original ids: a repeat is only ever an identical request.
    assert {r.request_id for r in requests.messages(GraphExecutionRequested)} == set(
        expected.values()
    )
    assert await delivery_outcome(dispatcher, "ev-1") == Outcome.DISPATCHED


async def test_a_record_that_fails_validation_is_dead_lettered_at_once_and_the_next_goes_on(
    dispatcher: Running, kafka_bootstrap: str
) -> None:
    state = webhook(dispatcher.webhook_id, user_id=dispatcher.user_id, nodes=[node("n-1")])
    valid = event("ev-ok", webhook_id=dispatcher.webhook_id, user_id=dispatcher.user_id)
    async with (
        Tail(kafka_bootstrap, topics.GRAPH_EXECUTION_REQUESTS, dispatcher.mine) as requests,
        Tail(kafka_bootstrap, topics.WEBHOOK_EVENTS_DLQ, dispatcher.mine) as letters,
    ):
        await dispatcher.publish(state)
        await dispatcher.bus.publish_raw(
            topics.WEBHOOK_EVENTS,
            dispatcher.webhook_id,
            b'{"event_id": "no-payload"}',
            build_headers(valid, source=SOURCE),
        )
        await dispatcher.publish(valid)
        await requests.wait_until(lambda: bool(requests.records), within=WITHIN)
        await letters.wait_until(lambda: bool(letters.records), within=WITHIN)
    [letter] = letters.messages(DeadLetter)
    assert (letter.attempts, letter.error_type) == (1, "InvalidMessage")
    assert letter.original_value() == b'{"event_id": "no-payload"}'
    [request] = requests.messages(GraphExecutionRequested)
    assert request.source.event_id == "ev-ok"


async def test_oversized_and_malformed_records_are_dead_lettered_and_the_next_goes_on(
    dispatcher: Running, kafka_bootstrap: str
) -> None:
    """Over the consumer's default 1 MiB fetch, under the topic's limit: fetched, dead-lettered
    whole (the dead-letter topic allows base64 of the largest event), and never a stall."""
    state = webhook(dispatcher.webhook_id, user_id=dispatcher.user_id, nodes=[node("n-1")])
    valid = event("ev-after", webhook_id=dispatcher.webhook_id, user_id=dispatcher.user_id)
    typed = build_headers(valid, source=SOURCE)
    oversized = b"\xfe" * (LARGE_MESSAGE_BYTES - 64 * 1024)
    poison = [(oversized, typed), (None, typed), (b"\x00\xff", [])]
    async with (
        Tail(kafka_bootstrap, topics.GRAPH_EXECUTION_REQUESTS, dispatcher.mine) as requests,
        Tail(kafka_bootstrap, topics.WEBHOOK_EVENTS_DLQ, dispatcher.mine) as letters,
    ):
        await dispatcher.publish(state)
        for value, headers in poison:
            await dispatcher.bus.publish_raw(
                topics.WEBHOOK_EVENTS, dispatcher.webhook_id, value, headers
            )
        await dispatcher.publish(valid)
        await requests.wait_until(lambda: bool(requests.records), within=WITHIN)
        await letters.wait_until(lambda: len(letters.records) == len(poison), within=WITHIN)
    assert [letter.original_value() for letter in letters.messages(DeadLetter)] == [
        value for value, _ in poison
    ]
    [request] = requests.messages(GraphExecutionRequested)
    assert request.source.event_id == "ev-after"


@pytest.mark.parametrize(
    ("reason", "preset_id", "command_type"),
    [
        ("graph_not_in_library", None, UnlinkGraphTriggers),
        ("graph_not_accessible", "p-1", DeactivatePresetTrigger),
    ],
)
async def test_an_executor_rejection_produces_the_right_trigger_command(
    dispatcher: Running,
    kafka_bootstrap: str,
    reason: str,
    preset_id: str | None,
    command_type: type[Message],
) -> None:
    """SPEC RT-9 (orphan clean-up), RT-10 (inaccessible graph)"""
    rejection = GraphExecutionRejected.model_validate(
        {
            "request_id": str(uuid.uuid4()),
            "user_id": dispatcher.user_id,
            "graph_id": "graph-gone",
            "preset_id": preset_id,
            "reason": reason,
            "source": ExecutionSource(
                webhook_id=dispatcher.webhook_id,
                provider="github",
                event_id="ev-1",
                event_type="push",
                node_id="n-1",
            ).model_dump(),
        }
    )
    async with Tail(kafka_bootstrap, topics.TRIGGER_COMMANDS, dispatcher.mine) as commands:
        await dispatcher.publish(rejection)
        await commands.wait_until(lambda: bool(commands.records), within=WITHIN)
    [(record, command)] = commands.records
    assert isinstance(command, command_type)
    assert record.key == dispatcher.user_id
    assert command.model_dump(include={"user_id", "webhook_id", "reason"}) == {
        "user_id": dispatcher.user_id,
        "webhook_id": dispatcher.webhook_id,
        "reason": reason,
    }
    if isinstance(command, UnlinkGraphTriggers):
        assert command.graph_id == "graph-gone"
    if isinstance(command, DeactivatePresetTrigger):
        assert (command.preset_id, command.unlink) == ("p-1", False)
