"""Republishing dead letters to the topic they came from (`integrations dlq replay`)."""

from collections.abc import AsyncIterable, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from integrations.bus import Header, Record
from integrations.contracts import DeadLetter, DecodeError, decode_as, topics
from integrations.dispatcher.domain.replay import ReplayFilter

PublishRaw = Callable[[str, str | None, bytes | None, Sequence[Header]], Awaitable[None]]

# Only the dispatcher's own input: a letter naming another topic is not ours to write to.
_REPLAYABLE_TOPICS = frozenset({topics.WEBHOOK_EVENTS})


@dataclass
class ReplayReport:
    scanned: int = 0
    unreadable: int = 0
    replayed: list[DeadLetter] = field(default_factory=list)


async def replay_dead_letters(
    records: AsyncIterable[Record],
    publish_raw: PublishRaw,
    criteria: ReplayFilter,
    *,
    dry_run: bool = False,
    report: ReplayReport | None = None,
) -> ReplayReport:
    """Republish each admitted letter's original record byte for byte (key, value, headers),
    waiting for each acknowledgement. The dispatcher then treats it as new: its event id was
    never recorded as processed, and its requests keep their original ids.

    Pass `report` to keep what was done so far should the caller give up half-way.
    """
    report = ReplayReport() if report is None else report
    async for record in records:
        report.scanned += 1
        try:
            letter = decode_as(DeadLetter, record.value)
        except DecodeError:
            report.unreadable += 1
            continue
        if letter.original_topic not in _REPLAYABLE_TOPICS or not criteria.admits(letter):
            continue
        if not dry_run:
            key = letter.original_key()
            headers = [(name, value or b"") for name, value in letter.original_header_pairs()]
            await publish_raw(
                letter.original_topic,
                None if key is None else key.decode(errors="replace"),
                letter.original_value(),
                headers,
            )
        report.replayed.append(letter)
    return report
