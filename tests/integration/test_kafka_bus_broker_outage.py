"""The Kafka bus after a broker outage under load: once the broker is back, a publish must
succeed again without restarting the process (DESIGN §4 Ingress: 503 while the broker is
down, then the provider's retry lands).

Found by tests/e2e/test_broker_restart.py. The bus's producer is idempotent; aiokafka's
idempotent producer does not reset its producer id after a sequence gap, so batches that
expired while the broker was down (for longer than the producer's 15 s request timeout) left
every later batch of that partition refused with `OutOfOrderSequenceNumber`, forever
(aio-libs/aiokafka#1017). The bus replaces a producer in that state."""

import asyncio
import time

import pytest

from integrations.bus import BusUnavailable
from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from tests.harness.kafka import KafkaServer, create_topic, unique_name

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(180),
]

RATE_PER_S = 40  # one hot key, as a busy webhook sends to one partition
DOWN_FOR_S = 20.0
PUBLISH_TIMEOUT_S = 2.0
RECOVER_WITHIN_S = 30.0
AFTER_S = 10.0


async def test_a_bus_publishes_again_once_a_broker_that_was_down_under_load_is_back(
    kafka_fault_server: KafkaServer,
) -> None:
    bootstrap = kafka_fault_server.bootstrap_servers
    topic = unique_name("bus-outage")
    await create_topic(bootstrap, topic, partitions=3)
    bus = KafkaBus(
        KafkaSettings(
            bootstrap_servers=bootstrap, client_id=topic, publish_timeout_s=PUBLISH_TIMEOUT_S
        )
    )
    await bus.start()
    outcomes: list[str] = []

    async def publish() -> None:
        try:
            await bus.publish_raw(topic, "hot", b"{}")
            outcomes.append("acknowledged")
        except BusUnavailable as error:
            outcomes.append(str(error))

    async def load(until: asyncio.Event) -> None:
        pending = []
        while not until.is_set():
            pending.append(asyncio.create_task(publish()))
            await asyncio.sleep(1 / RATE_PER_S)
        await asyncio.gather(*pending)

    try:
        back = asyncio.Event()
        loading = asyncio.create_task(load(back))
        await asyncio.sleep(1)
        await kafka_fault_server.astop()
        await asyncio.sleep(DOWN_FOR_S)
        await kafka_fault_server.astart()
        await asyncio.sleep(AFTER_S)  # the load goes on after the broker is back
        back.set()
        await loading
        assert "acknowledged" in outcomes, "nothing was published before the outage"

        deadline = time.monotonic() + RECOVER_WITHIN_S
        outcomes.clear()
        while time.monotonic() < deadline and outcomes[-1:] != ["acknowledged"]:
            await publish()
            await asyncio.sleep(0.5)
    finally:
        await bus.stop()

    assert outcomes[-1] == "acknowledged", f"still refused: {outcomes[-1]}"
