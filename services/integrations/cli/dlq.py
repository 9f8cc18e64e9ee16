"""`integrations dlq replay`: republish the dispatcher's dead letters."""

import asyncio
import os
import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from integrations.dispatcher.adapters.dead_letter_reader import read_dead_letters
from integrations.dispatcher.domain.replay import ReplayFilter
from integrations.dispatcher.replay import ReplayReport, replay_dead_letters

app = typer.Typer(help="Dead letters of the dispatcher (integrations.webhook-events.dlq.v1).")


@app.callback()
def dlq() -> None:
    """Dead letters of the dispatcher (integrations.webhook-events.dlq.v1)."""


_AGO = re.compile(r"(\d+)([smhd])")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_MOMENT_HELP = "ISO 8601 time (UTC unless it says otherwise) or an age such as 30m, 2h, 7d."


def parse_moment(text: str, now: datetime) -> datetime:
    """`2h` is two hours before `now`; anything else is read as an ISO 8601 time."""
    ago = _AGO.fullmatch(text.strip())
    if ago:
        return now - timedelta(**{_UNITS[ago[2]]: int(ago[1])})
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"{text!r} is neither an ISO 8601 time nor an age") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command("replay")
def replay(
    since: Annotated[
        str | None, typer.Option(help=f"Only letters that failed at or after this. {_MOMENT_HELP}")
    ] = None,
    until: Annotated[
        str | None, typer.Option(help=f"Only letters that failed before this. {_MOMENT_HELP}")
    ] = None,
    webhook_id: Annotated[
        list[str] | None, typer.Option("--webhook-id", help="Only this webhook (repeatable).")
    ] = None,
    bootstrap_servers: Annotated[
        str, typer.Option(help="Kafka bootstrap servers; default $KAFKA_BOOTSTRAP_SERVERS.")
    ] = "",
    dry_run: Annotated[bool, typer.Option(help="List what would be replayed.")] = False,
    timeout: Annotated[
        float, typer.Option(help="Give up after this many seconds (e.g. no such topic).")
    ] = 300.0,
) -> None:
    """Republish dead-lettered webhook events to their topic, byte for byte.

    The dispatcher then processes them as new: requests that went out before keep their ids,
    so an idempotent executor does not run them twice.
    """
    now = datetime.now(UTC)
    criteria = ReplayFilter(
        since=None if since is None else parse_moment(since, now),
        until=None if until is None else parse_moment(until, now),
        webhook_ids=frozenset(webhook_id or ()),
    )
    servers = bootstrap_servers or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    report = ReplayReport()
    timed_out = asyncio.run(_replay(servers, criteria, report, dry_run=dry_run, limit_s=timeout))
    verb = "would replay" if dry_run else "replayed"
    for letter in report.replayed:
        typer.echo(
            f"{verb}  webhook={letter.webhook_id}  "
            f"from={letter.original_partition}:{letter.original_offset}  "
            f"failed_at={letter.failed_at.isoformat()}  {letter.error_type}: {letter.error[:120]}"
        )
    typer.echo(
        f"{verb} {len(report.replayed)} of {report.scanned} dead letters"
        + (f" ({report.unreadable} unreadable)" if report.unreadable else "")
    )
    if timed_out:
        typer.echo(f"gave up after {timeout:g} s, before the end of the topic", err=True)
        raise typer.Exit(1)


async def _replay(
    servers: str, criteria: ReplayFilter, report: ReplayReport, *, dry_run: bool, limit_s: float
) -> bool:
    """Fills `report`; True if it gave up after `limit_s` (e.g. the topic does not exist)."""
    settings = KafkaSettings(bootstrap_servers=servers, client_id="integrations-dlq-replay")
    bus = KafkaBus(settings)
    await bus.start()
    try:
        async with asyncio.timeout(limit_s):
            await replay_dead_letters(
                read_dead_letters(settings),
                bus.publish_raw,
                criteria,
                dry_run=dry_run,
                report=report,
            )
    except TimeoutError:
        return True
    finally:
        await bus.stop()
    return False
