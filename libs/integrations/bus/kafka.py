"""The bus on Apache Kafka.

FastStream carries what it does well: the consumer groups, whose manual acknowledgement
(`AckPolicy.NACK_ON_ERROR`: commit after the handler returns, seek back to the record when
it raises) is exactly the port's contract. It also runs the broker middlewares, so the
telemetry's FastStream middleware traces every consume without this module knowing about it.

Raw aiokafka carries the rest:
- the producer (idempotent, acks=all). FastStream's publish path (its publisher objects and
  a middleware scope per record) cost more CPU than aiokafka's own send, on ingress's hot
  path; publishing needs none of it, so the bus sends with aiokafka and opens one producer
  span per record itself;
- the group-less readers (`kafka_readers`): views and the tail behind `expect()` need end
  offsets and resolved positions, which FastStream's subscribers hide.

Topics are provisioned by `integrations topics create` (`admin.ensure_topics`), never on the
fly: a topic auto-created by a subscriber would get one partition and no retention settings.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, asynccontextmanager
from enum import Enum
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    InvalidProducerEpoch,
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
    ProducerFenced,
    RecordListTooLargeError,
    TopicAuthorizationFailedError,
    UnknownProducerId,
)
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from faststream.types import BrokerMiddleware
from opentelemetry import metrics, trace
from opentelemetry.metrics import MeterProvider
from opentelemetry.trace import SpanKind, TracerProvider

from integrations.bus.envelope import SealingPublisher
from integrations.bus.errors import BusUnavailable, PublishRejected
from integrations.bus.kafka_readers import KafkaView, Tail, to_record
from integrations.bus.ports import Expectation, Handler, Header, Predicate, TraceContextSource
from integrations.bus.settings import KafkaSettings
from integrations.telemetry.buckets import LATENCY_BUCKETS_S
from integrations.telemetry.propagation import current_traceparent

log = logging.getLogger("integrations.bus.kafka")

Middleware = BrokerMiddleware[Any, Any]

_INSTRUMENTATION = "integrations.bus.kafka"

# Refusals about the record itself: sending it again cannot succeed.
_PERMANENT = (
    MessageSizeTooLargeError,
    RecordListTooLargeError,
    InvalidTopicError,
    TopicAuthorizationFailedError,
)
# The idempotent producer's own state is broken. Batches that expired while the broker was
# down leave a gap in a partition's sequence numbers, and aiokafka never takes a new
# producer id: every later batch of that partition is refused until a new producer is made
# (aio-libs/aiokafka#1017).
_PRODUCER_BROKEN = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    ProducerFenced,
)


def producer_options(settings: KafkaSettings) -> dict[str, Any]:
    """The one place producers are configured: the bus's own, and FastStream's."""
    return {
        "client_id": settings.client_id,
        "request_timeout_ms": int(settings.request_timeout_s * 1000),
        # Idempotence: a producer retry after a lost acknowledgement writes no duplicate.
        "enable_idempotence": True,
        "acks": "all",
        "max_request_size": settings.max_message_bytes,
        # aiokafka's 16 KiB default holds two typical webhook events: a hot webhook (one
        # partition) then waits a round trip per pair. 1 MiB lets a burst share one request.
        "max_batch_size": 1024 * 1024,
    }


def make_kafka_broker(
    settings: KafkaSettings, middlewares: Sequence[Middleware] = ()
) -> KafkaBroker:
    """The one place Kafka consumers are configured; every service gets its broker here."""
    return KafkaBroker(
        settings.servers,
        **producer_options(settings),
        allow_auto_create_topics=False,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        graceful_timeout=settings.graceful_timeout_s,
        middlewares=middlewares,
        # FastStream's default logger prints its own format; ours goes through the service's.
        logger=logging.getLogger("integrations.bus.faststream"),
    )


async def _body_as_bytes(message: StreamMessage[Any]) -> bytes:
    # Handlers get the record; decoding is theirs (contracts.codec), not FastStream's JSON.
    body: bytes = message.body
    return body


class _State(Enum):
    NEW = "new"
    RUNNING = "running"
    STOPPED = "stopped"


class KafkaBus(SealingPublisher):
    def __init__(
        self,
        settings: KafkaSettings,
        *,
        middlewares: Sequence[Middleware] = (),
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
        trace_context: TraceContextSource = current_traceparent,
    ) -> None:
        """`middlewares` wrap consumers; the providers (default: the global ones) get the
        producer spans and the publish metrics."""
        self._settings = settings
        self._trace_context = trace_context
        self._tracer = trace.get_tracer(_INSTRUMENTATION, tracer_provider=tracer_provider)
        self._publish_duration = metrics.get_meter(
            _INSTRUMENTATION, meter_provider=meter_provider
        ).create_histogram(
            "messaging.publish.duration",
            unit="s",
            description="Time from publish to the broker's acknowledgement, by topic and outcome.",
            explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_S,
        )
        self.broker = make_kafka_broker(settings, middlewares)
        self._producer: AIOKafkaProducer | None = None
        self._renewing = asyncio.Lock()
        self._state = _State.NEW
        self._subscribers: list[Any] = []
        self._views: list[KafkaView] = []
        self._tails: dict[str, Tail] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._readers: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        if self._state is _State.RUNNING:
            return
        if self._state is _State.STOPPED:
            raise RuntimeError("a stopped KafkaBus cannot be started again")
        await self._wait_for_cluster()
        producer = self._new_producer()
        try:
            await producer.start()
            await self.broker.start()
        except Exception as error:
            with contextlib.suppress(Exception):
                await self.broker.stop()
            with contextlib.suppress(Exception):
                await producer.stop()
            raise BusUnavailable(f"cannot start Kafka clients: {error}") from error
        self._producer = producer
        self._state = _State.RUNNING
        for view in self._views:
            self._run_reader(view.run())

    async def stop(self) -> None:
        if self._state is not _State.RUNNING:
            self._state = _State.STOPPED
            return
        self._state = _State.STOPPED
        pending = [*self._tasks, *self._readers]
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
        await self.broker.stop()
        if self._producer is not None:
            await self._producer.stop()

    async def health(self) -> bool:
        if self._state is not _State.RUNNING:
            return False
        if any(task.done() for task in self._readers):
            return False
        if not all(subscriber.running for subscriber in self._subscribers):
            return False
        alive: bool = await self.broker.ping(timeout=self._settings.health_timeout_s)
        return alive

    def _publishing(self, topic: str) -> AbstractContextManager[object]:
        # OpenTelemetry's messaging conventions: `send {destination}`, a producer span.
        return self._tracer.start_as_current_span(
            f"send {topic}",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": topic,
            },
        )

    async def _send(
        self, topic: str, key: str | None, value: bytes | None, headers: Sequence[Header]
    ) -> None:
        self._require_running()
        producer = self._producer
        assert producer is not None  # set before the bus runs
        timeout = self._settings.publish_timeout_s
        started = time.perf_counter()
        outcome = "unavailable"
        try:
            async with asyncio.timeout(timeout):
                acknowledged = await producer.send(
                    topic,
                    value,
                    key=None if key is None else key.encode(),
                    headers=list(headers),
                )
                await acknowledged
            outcome = "acknowledged"
        except TimeoutError:
            raise BusUnavailable(f"{topic}: not acknowledged within {timeout} s") from None
        except _PERMANENT as error:
            outcome = "rejected"
            raise PublishRejected(f"{topic}: {error}") from error
        except _PRODUCER_BROKEN as error:
            # This record was not written (the caller may retry); later ones go through a
            # new producer.
            await self._renew_producer(producer, error)
            raise BusUnavailable(f"{topic}: {error}") from error
        except KafkaError as error:
            raise BusUnavailable(f"{topic}: {error}") from error
        finally:
            self._publish_duration.record(
                time.perf_counter() - started,
                {"messaging.destination.name": topic, "outcome": outcome},
            )

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._settings.servers, **producer_options(self._settings)
        )

    async def _renew_producer(self, broken: AIOKafkaProducer, error: KafkaError) -> None:
        async with self._renewing:
            if self._producer is not broken or self._state is not _State.RUNNING:
                return  # another publish renewed it already, or the bus is stopping
            fresh = self._new_producer()
            try:
                await fresh.start()
            except KafkaError:
                # Unreachable again: keep the broken one, the next refusal tries again.
                with contextlib.suppress(Exception):
                    await fresh.stop()
                return
            self._producer = fresh
            log.warning("Kafka producer replaced after %s", type(error).__name__)
        # Its batches are refused anyway; closing it must not hold up this publish.
        self._spawn(self._close(broken))

    @staticmethod
    async def _close(producer: AIOKafkaProducer) -> None:
        with contextlib.suppress(Exception):
            await producer.stop()

    def subscribe(self, topic: str, handler: Handler, *, group: str) -> None:
        subscriber = self.broker.subscriber(
            topic,
            group_id=group,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            decoder=_body_as_bytes,
            max_partition_fetch_bytes=self._settings.max_message_bytes,
            session_timeout_ms=int(self._settings.session_timeout_s * 1000),
            heartbeat_interval_ms=int(self._settings.session_timeout_s * 1000 / 3),
        )
        subscriber(self._consume_with(handler))
        self._subscribers.append(subscriber)
        if self._state is _State.RUNNING:
            self._spawn(subscriber.start())

    def subscribe_view(self, topic: str, handler: Handler) -> KafkaView:
        view = KafkaView(topic, handler, self._settings)
        self._views.append(view)
        if self._state is _State.RUNNING:
            self._run_reader(view.run())
        return view

    def expect(self, topic: str, predicate: Predicate) -> AbstractAsyncContextManager[Expectation]:
        return self._expect(topic, predicate)

    @asynccontextmanager
    async def _expect(self, topic: str, predicate: Predicate) -> AsyncIterator[Expectation]:
        self._require_running()
        tail = self._tails.get(topic)
        if tail is None:
            # One tail per topic per process, kept for later expectations.
            tail = self._tails[topic] = Tail(topic, self._settings)
            self._run_reader(tail.run())
        within = self._settings.publish_timeout_s
        try:
            async with asyncio.timeout(within):
                expectation = await tail.enter(predicate)
        except (TimeoutError, KafkaError) as error:
            raise BusUnavailable(f"{topic}: cannot follow the topic within {within} s") from error
        try:
            yield expectation
        finally:
            tail.leave(expectation)

    def _consume_with(self, handler: Handler) -> Any:
        delay = self._settings.redelivery_delay_s

        async def consume(message: KafkaMessage) -> None:
            try:
                await handler(to_record(message.raw_message))
            except Exception:
                # FastStream logs the error and seeks back once this raises: pause first,
                # so a record that keeps failing does not spin the consumer.
                await asyncio.sleep(delay)
                raise

        return consume

    async def _wait_for_cluster(self) -> None:
        # A throwaway admin client, closed on every path: FastStream's own start leaves an
        # unclosed producer behind when the cluster is unreachable.
        deadline = time.monotonic() + self._settings.connect_timeout_s
        while True:
            admin = AIOKafkaAdminClient(
                bootstrap_servers=self._settings.servers,
                client_id=self._settings.client_id,
                request_timeout_ms=int(self._settings.request_timeout_s * 1000),
            )
            try:
                await admin.start()
                return
            except KafkaError as error:
                if time.monotonic() >= deadline:
                    raise BusUnavailable(
                        f"Kafka at {self._settings.bootstrap_servers} is unreachable: {error}"
                    ) from error
            finally:
                await admin.close()
            await asyncio.sleep(min(1.0, max(0.0, deadline - time.monotonic())))

    def _require_running(self) -> None:
        if self._state is not _State.RUNNING:
            raise BusUnavailable(f"the Kafka bus is {self._state.value}")

    def _run_reader(self, coroutine: Coroutine[Any, Any, None]) -> None:
        self._readers.append(asyncio.create_task(coroutine))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
