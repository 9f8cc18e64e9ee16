"""The leak scan itself: it must find a secret wherever the suite looks, or its silence in the
fault tests would mean nothing."""

import os
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tests.e2e.leaks import LeakScan, end_offsets, key_ring_secrets, records_since
from tests.harness.kafka import create_topic, unique_name

pytestmark = pytest.mark.e2e


async def test_a_secret_planted_in_a_log_a_response_and_a_kafka_record_is_found_in_each(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    secret = os.urandom(16).hex()
    scan = LeakScan()
    scan.add_secrets(secret, "an-innocent-value-never-written")
    log = tmp_path / "service.log"
    log.write_text(f"INFO started\nDEBUG token={secret}\n")
    scan.log_paths.add(log)
    topic = unique_name("leak-scan")
    await create_topic(kafka_bootstrap, topic)
    start = await end_offsets(kafka_bootstrap, [topic])

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"note": f"the key is {secret}"})

    async with httpx.AsyncClient(
        transport=httpx.MockTransport(answer),
        event_hooks={"response": [scan.record_response]},
    ) as client:
        await client.get("http://service.test/leaky")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"{}", key=b"k", headers=[("h", secret.encode())])
    finally:
        await producer.stop()

    records = await records_since(kafka_bootstrap, start)
    found = scan.findings(records)

    assert found == [
        f"{secret[:6]}... in service.log:2",
        f"{secret[:6]}... in response of GET http://service.test/leaky -> 200",
        f"{secret[:6]}... in record {topic}@0",
    ]
    assert scan.coverage(records) == {"secrets": 2, "log lines": 2, "responses": 1, "records": 1}


def test_a_key_ring_is_searched_whole_and_key_by_key() -> None:
    assert key_ring_secrets("k1:AAAA,k2:BBBB") == ["k1:AAAA,k2:BBBB", "AAAA", "BBBB"]
    assert key_ring_secrets("transport/k1:CCCC") == ["transport/k1:CCCC", "CCCC"]


def test_a_secret_short_enough_to_match_by_chance_is_refused() -> None:
    with pytest.raises(ValueError, match="by chance"):
        LeakScan().add_secrets("short")
