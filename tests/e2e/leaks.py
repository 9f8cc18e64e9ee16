"""The leak scan of the end-to-end suite (DESIGN §6: secrets never in responses, logs or event
payloads): every secret a test used is searched for in every log line of the service
processes, every response body and header the test received from them, and every Kafka record
produced while the test ran (key, value and headers)."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from tests.unit.dispatcher.kafka_kit import partitions_of

MIN_SECRET_CHARS = 12
"""Shorter values would match by chance; every secret the suite makes is longer."""

Offsets = dict[TopicPartition, int]


def key_ring_secrets(ring: str) -> list[str]:
    """A key ring's text and each key's material, which must not leak on its own either."""
    entries = ring.partition("/")[2] if "/" in ring.split(",")[0] else ring
    return [ring, *(entry.partition(":")[2] for entry in entries.split(","))]


@dataclass(frozen=True)
class KafkaRecord:
    topic: str
    offset: int
    data: bytes
    """Key, value and header values, joined: all a consumer sees."""


async def end_offsets(bootstrap: str, topics: Iterable[str]) -> Offsets:
    """Where each partition of `topics` ends now: the scan reads what comes after."""
    partitions = [p for topic in topics for p in await partitions_of(bootstrap, topic)]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def raw_records_since(bootstrap: str, start: Offsets) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record between `start` and the partitions' current ends, in partition order."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(start))
        ends = await consumer.end_offsets(list(start))
        for partition, offset in start.items():
            consumer.seek(partition, offset)
        records: list[ConsumerRecord[bytes, bytes]] = []
        pending = {p for p in start if ends[p] > start[p]}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            for partition, batch in batches.items():
                records.extend(raw for raw in batch if raw.offset < ends[partition])
            pending = {p for p in pending if await consumer.position(p) < ends[p]}
        return records
    finally:
        await consumer.stop()


async def records_since(bootstrap: str, start: Offsets) -> list[KafkaRecord]:
    """`raw_records_since`, each record's bytes joined for the scan."""
    return [
        KafkaRecord(
            raw.topic,
            raw.offset,
            b"\n".join([raw.key or b"", raw.value or b"", *(v for _, v in raw.headers)]),
        )
        for raw in await raw_records_since(bootstrap, start)
    ]


@dataclass
class LeakScan:
    """Collects the secrets of a test and what its services said, then finds any leak."""

    secrets: set[str] = field(default_factory=set)
    responses: list[tuple[str, bytes]] = field(default_factory=list)
    log_paths: set[Path] = field(default_factory=set)

    def add_secrets(self, *values: str) -> None:
        for value in values:
            if len(value) < MIN_SECRET_CHARS:
                raise ValueError(f"a secret of {len(value)} chars would match by chance")
            self.secrets.add(value)

    async def record_response(self, response: httpx.Response) -> None:
        """An httpx response hook: keeps what the client received."""
        await response.aread()
        headers = "\n".join(f"{k}: {v}" for k, v in response.headers.items())
        where = f"{response.request.method} {response.request.url} -> {response.status_code}"
        self.responses.append((where, headers.encode() + b"\n" + response.content))

    def client(self, *, timeout: float = 30.0) -> httpx.AsyncClient:
        """An HTTP client whose every response is scanned."""
        return httpx.AsyncClient(timeout=timeout, event_hooks={"response": [self.record_response]})

    def findings(self, records: Sequence[KafkaRecord]) -> list[str]:
        """Where each secret appears, as `<secret prefix> in <place>` lines."""
        found: list[str] = []
        needles = {secret: secret.encode() for secret in self.secrets}

        def search(place: str, haystack: bytes) -> None:
            for secret, needle in needles.items():
                if needle in haystack:
                    found.append(f"{secret[:6]}... in {place}")

        for path in sorted(self.log_paths):
            for number, line in enumerate(path.read_bytes().splitlines(), start=1):
                search(f"{path.name}:{number}", line)
        for where, body in self.responses:
            search(f"response of {where}", body)
        for record in records:
            search(f"record {record.topic}@{record.offset}", record.data)
        return found

    def coverage(self, records: Sequence[KafkaRecord]) -> Mapping[str, int]:
        """How much was scanned: a scan of nothing would prove nothing."""
        lines = sum(len(path.read_bytes().splitlines()) for path in self.log_paths)
        return {
            "secrets": len(self.secrets),
            "log lines": lines,
            "responses": len(self.responses),
            "records": len(records),
        }
