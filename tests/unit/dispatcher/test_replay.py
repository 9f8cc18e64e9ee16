"""Republishing dead letters: which ones, and byte for byte."""

from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import pytest
import typer
from typer.testing import CliRunner

from integrations.bus import Header, Record
from integrations.cli import dlq
from integrations.cli.dlq import parse_moment
from integrations.contracts import DeadLetter, build_headers, encode, topics
from integrations.dispatcher.domain.replay import ReplayFilter
from integrations.dispatcher.replay import replay_dead_letters
from tests.unit.dispatcher.kit import NOW, event, record_of

pytestmark = pytest.mark.unit

ORIGINAL = record_of(
    event("ev-1"), traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
)


def letter_record(
    original: Record = ORIGINAL, *, minutes: int = 0, topic: str = topics.WEBHOOK_EVENTS
) -> Record:
    letter = DeadLetter.from_record(
        topic=topic,
        partition=original.partition,
        offset=original.offset,
        key=None if original.key is None else original.key.encode(),
        value=original.value,
        headers=original.headers,
        error=RuntimeError("broker down"),
        attempts=5,
        failed_at=NOW + timedelta(minutes=minutes),
    )
    return record_of(
        None,
        topic=topics.WEBHOOK_EVENTS_DLQ,
        key=letter.webhook_id,
        value=encode(letter),
        headers=build_headers(letter, source="/integrations/dispatcher"),
    )


async def records(*items: Record) -> AsyncIterator[Record]:
    for item in items:
        yield item


class Published(list[tuple[str, str | None, bytes | None, list[Header]]]):
    async def __call__(
        self, topic: str, key: str | None, value: bytes | None, headers: Sequence[Header] = ()
    ) -> None:
        self.append((topic, key, value, list(headers)))


async def test_a_replay_republishes_the_original_record_byte_for_byte() -> None:
    published = Published()
    report = await replay_dead_letters(records(letter_record()), published, ReplayFilter())
    assert published == [
        (topics.WEBHOOK_EVENTS, ORIGINAL.key, ORIGINAL.value, list(ORIGINAL.headers))
    ]
    assert (report.scanned, len(report.replayed)) == (1, 1)


async def test_only_letters_in_the_time_range_and_of_the_webhooks_asked_for_are_replayed() -> None:
    other = record_of(event("ev-2", webhook_id="wh-2"), key="wh-2")
    letters = [
        letter_record(minutes=0),
        letter_record(minutes=30),
        letter_record(other, minutes=30),
    ]
    criteria = ReplayFilter(
        since=NOW + timedelta(minutes=10),
        until=NOW + timedelta(hours=1),
        webhook_ids=frozenset({"wh-1"}),
    )
    published = Published()
    report = await replay_dead_letters(records(*letters), published, criteria)
    assert [letter.failed_at for letter in report.replayed] == [NOW + timedelta(minutes=30)]
    assert len(published) == 1


async def test_a_dry_run_publishes_nothing() -> None:
    published = Published()
    report = await replay_dead_letters(
        records(letter_record()), published, ReplayFilter(), dry_run=True
    )
    assert published == []
    assert len(report.replayed) == 1


async def test_unreadable_letters_and_other_topics_are_left_alone() -> None:
    junk = record_of(None, topic=topics.WEBHOOK_EVENTS_DLQ, value=b"junk", headers=[])
    foreign = letter_record(topic="somebody.elses-topic.v1")
    published = Published()
    report = await replay_dead_letters(records(junk, foreign), published, ReplayFilter())
    assert published == []
    assert (report.scanned, report.unreadable, report.replayed) == (2, 1, [])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("2h", NOW - timedelta(hours=2)),
        ("7d", NOW - timedelta(days=7)),
        ("2025-03-01T10:00:00", NOW - timedelta(hours=2)),
        ("2025-03-01T12:00:00+02:00", NOW - timedelta(hours=2)),
    ],
)
def test_cli_moments_are_ages_or_iso_times_in_utc(text: str, expected: object) -> None:
    assert parse_moment(text, NOW) == expected


def test_the_dlq_commands_mount_under_the_integrations_cli() -> None:
    """As `integrations/cli/main.py` mounts them: `app.add_typer(dlq.app, name="dlq")`."""
    main = typer.Typer()
    main.command("version")(lambda: None)
    main.add_typer(dlq.app, name="dlq")
    result = CliRunner().invoke(main, ["dlq", "replay", "--help"])
    assert result.exit_code == 0, result.output
    assert "--webhook-id" in result.output
    assert "--since" in result.output
