"""The dispatcher's repositories, run against the embedded store and (integration) the
MongoDB-wire server, so the two cannot drift."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from integrations.dispatcher.adapters.delivery_log import DeliveryLogRepository
from integrations.dispatcher.adapters.processed_events import ProcessedEventsRepository
from integrations.dispatcher.domain.deliveries import (
    MAX_DISPATCHES_KEPT,
    Dispatch,
    DispatchedRequest,
    Outcome,
)
from integrations.storage import Database, open_database
from tests.unit.dispatcher.kit import NOW, USER, WEBHOOK, event

pytestmark = pytest.mark.contract

DAY = timedelta(days=1)


@pytest.fixture(params=["sqlite", pytest.param("mongo", marks=pytest.mark.integration)])
async def database(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.param == "sqlite":
        database = open_database(f"sqlite:///{tmp_path}/dispatcher.db", name="dispatcher")
        yield database
        await database.close()
        return
    uri: str = request.getfixturevalue("mongodb_uri")
    name = f"dispatcher_{uuid.uuid4().hex[:16]}"
    database = open_database(uri, name=name)
    yield database
    await database.close()
    client: MongoClient[dict[str, Any]] = MongoClient(uri, serverSelectionTimeoutMS=5000)
    with client:
        client.drop_database(name)


@pytest.fixture
async def processed(database: Database) -> ProcessedEventsRepository:
    store = ProcessedEventsRepository(database.collection("processed_events"), retention=DAY)
    await store.ensure_indexes()
    return store


@pytest.fixture
async def log(database: Database) -> DeliveryLogRepository:
    store = DeliveryLogRepository(
        database.collection("deliveries"), retention=7 * DAY, max_event_bytes=2048
    )
    await store.ensure_indexes()
    return store


def dispatch(
    outcome: Outcome = Outcome.DISPATCHED, *, redelivery: int = 0, at: datetime = NOW
) -> Dispatch:
    requests = (
        (
            DispatchedRequest(
                request_id=f"r-{redelivery}", graph_id="g", graph_version=1, node_id="n"
            ),
        )
        if outcome is Outcome.DISPATCHED
        else ()
    )
    return Dispatch(redelivery=redelivery, dispatched_at=at, outcome=outcome, requests=requests)


# --- processed events --------------------------------------------------------------------


async def test_an_event_is_processed_once_added_and_adding_again_is_harmless(
    processed: ProcessedEventsRepository,
) -> None:
    assert not await processed.contains(WEBHOOK, "ev-1", now=NOW)
    await processed.add(WEBHOOK, "ev-1", now=NOW)
    await processed.add(WEBHOOK, "ev-1", now=NOW)
    assert await processed.contains(WEBHOOK, "ev-1", now=NOW)
    assert not await processed.contains("wh-2", "ev-1", now=NOW)
    assert not await processed.contains(WEBHOOK, "ev-2", now=NOW)


async def test_an_expired_record_reads_as_absent_and_is_renewed_by_adding(
    processed: ProcessedEventsRepository,
) -> None:
    """Correctness never waits for a TTL monitor (docs/storage.md)."""
    await processed.add(WEBHOOK, "ev-1", now=NOW)
    later = NOW + 2 * DAY
    assert not await processed.contains(WEBHOOK, "ev-1", now=later)
    await processed.add(WEBHOOK, "ev-1", now=later)
    assert await processed.contains(WEBHOOK, "ev-1", now=later)


async def test_purging_deletes_only_expired_records(processed: ProcessedEventsRepository) -> None:
    await processed.add(WEBHOOK, "old", now=NOW)
    await processed.add(WEBHOOK, "new", now=NOW + DAY)
    assert await processed.purge_expired(now=NOW + DAY + timedelta(seconds=1)) == 1
    assert await processed.contains(WEBHOOK, "new", now=NOW + DAY)


# --- delivery log ------------------------------------------------------------------------


async def test_a_delivery_is_created_by_its_first_dispatch_and_grows_with_the_next(
    log: DeliveryLogRepository,
) -> None:
    await log.record(event("ev-1"), dispatch(Outcome.DEAD_LETTERED), now=NOW)
    await log.record(event("ev-1"), dispatch(redelivery=1), now=NOW)
    delivery = await log.get(user_id=USER, webhook_id=WEBHOOK, event_id="ev-1", now=NOW)
    assert delivery is not None
    assert [d.outcome for d in delivery.dispatches] == [Outcome.DEAD_LETTERED, Outcome.DISPATCHED]
    assert (delivery.outcome, delivery.redeliveries) == (Outcome.DISPATCHED, 1)
    assert delivery.event == event("ev-1")


async def test_a_delivery_is_only_for_its_owner_and_only_until_it_expires(
    log: DeliveryLogRepository,
) -> None:
    await log.record(event("ev-1"), dispatch(), now=NOW)
    assert await log.get(user_id="mallory", webhook_id=WEBHOOK, event_id="ev-1", now=NOW) is None
    assert (
        await log.get(user_id=USER, webhook_id=WEBHOOK, event_id="ev-1", now=NOW + 8 * DAY) is None
    )
    assert await log.any_for(user_id=USER, webhook_id=WEBHOOK, now=NOW)
    assert not await log.any_for(user_id="mallory", webhook_id=WEBHOOK, now=NOW)
    assert await log.purge_expired(now=NOW + 8 * DAY) == 1


async def test_pages_run_newest_first_without_gaps_or_repeats(log: DeliveryLogRepository) -> None:
    for n in range(7):
        received = NOW + timedelta(seconds=n // 2)  # ties on time are broken by event id
        outcome = Outcome.SKIPPED if n % 3 == 0 else Outcome.DISPATCHED
        await log.record(event(f"ev-{n}", received_at=received), dispatch(outcome), now=NOW)
    await log.record(event("other", webhook_id="wh-2"), dispatch(), now=NOW)

    seen: list[str] = []
    cursor = None
    while True:
        page = await log.page(user_id=USER, webhook_id=WEBHOOK, now=NOW, limit=3, cursor=cursor)
        seen += [d.event_id for d in page.items]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == ["ev-6", "ev-5", "ev-4", "ev-3", "ev-2", "ev-1", "ev-0"]

    skipped = await log.page(user_id=USER, webhook_id=WEBHOOK, now=NOW, outcome=Outcome.SKIPPED)
    assert [d.event_id for d in skipped.items] == ["ev-6", "ev-3", "ev-0"]
    assert skipped.next_cursor is None


async def test_a_cursor_it_never_issued_is_refused(log: DeliveryLogRepository) -> None:
    with pytest.raises(ValueError):
        await log.page(user_id=USER, webhook_id=WEBHOOK, now=NOW, cursor="%%%")


async def test_a_delivery_keeps_its_latest_dispatches_only(log: DeliveryLogRepository) -> None:
    for number in range(MAX_DISPATCHES_KEPT + 5):
        await log.record(event("ev-1"), dispatch(redelivery=number), now=NOW)
    delivery = await log.get(user_id=USER, webhook_id=WEBHOOK, event_id="ev-1", now=NOW)
    assert delivery is not None
    assert len(delivery.dispatches) == MAX_DISPATCHES_KEPT
    assert delivery.dispatches[-1].redelivery == delivery.redeliveries == MAX_DISPATCHES_KEPT + 4


async def test_an_event_is_kept_for_redelivery_only_while_small_enough(
    log: DeliveryLogRepository,
) -> None:
    await log.record(event("big", payload={"blob": "x" * 4096}), dispatch(), now=NOW)
    big = await log.get(user_id=USER, webhook_id=WEBHOOK, event_id="big", now=NOW)
    assert big is not None
    assert big.event is None
    assert big.event_type == "pull_request.opened"


async def test_payload_keys_documents_could_not_hold_round_trip(log: DeliveryLogRepository) -> None:
    payload = {"a.b": 1, "$set": {"x.y": [1, {"$in": None}]}, "": "empty"}
    await log.record(event("odd", payload=payload), dispatch(), now=NOW)
    delivery = await log.get(user_id=USER, webhook_id=WEBHOOK, event_id="odd", now=NOW)
    assert delivery is not None
    assert delivery.event is not None
    assert delivery.event.payload == payload


async def test_concurrent_dispatches_of_one_event_are_all_kept(log: DeliveryLogRepository) -> None:
    await log.record(event("ev-1"), dispatch(), now=NOW)
    await asyncio.gather(
        *(log.record(event("ev-1"), dispatch(redelivery=n), now=NOW) for n in range(1, 4))
    )
    delivery = await log.get(user_id=USER, webhook_id=WEBHOOK, event_id="ev-1", now=NOW)
    assert delivery is not None
    assert sorted(d.redelivery for d in delivery.dispatches) == [0, 1, 2, 3]
