"""The retry backoff and the replay filter."""

from datetime import UTC, datetime, timedelta

import pytest

from integrations.contracts import DeadLetter
from integrations.dispatcher.domain.replay import ReplayFilter
from integrations.dispatcher.domain.retry import RetryPolicy

pytestmark = pytest.mark.unit

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def test_backoff_doubles_up_to_its_ceiling() -> None:
    policy = RetryPolicy(max_attempts=6, initial_delay_s=0.2, max_delay_s=1.0)
    ceilings = [policy.delay_after(attempt, jitter=0.999999) for attempt in range(1, 6)]
    assert ceilings == pytest.approx([0.2, 0.4, 0.8, 1.0, 1.0], rel=1e-5)


def test_jitter_keeps_at_least_half_the_delay() -> None:
    policy = RetryPolicy(initial_delay_s=1.0, max_delay_s=1.0)
    assert policy.delay_after(1, jitter=0.0) == 0.5


@pytest.mark.parametrize(
    "fields",
    [{"max_attempts": 0}, {"initial_delay_s": -1}, {"initial_delay_s": 2, "max_delay_s": 1}],
)
def test_a_policy_that_cannot_work_is_refused(fields: dict[str, float]) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**fields)  # type: ignore[arg-type]


def letter(webhook_id: str | None, failed_at: datetime) -> DeadLetter:
    return DeadLetter.from_record(
        topic="integrations.webhook-events.v1",
        partition=0,
        offset=1,
        key=None if webhook_id is None else webhook_id.encode(),
        value=b"{}",
        headers=[],
        error=ValueError("x"),
        attempts=1,
        failed_at=failed_at,
    )


def test_the_replay_filter_takes_a_half_open_time_range_and_webhook_ids() -> None:
    criteria = ReplayFilter(
        since=T0, until=T0 + timedelta(hours=1), webhook_ids=frozenset({"wh-1", "wh-2"})
    )
    assert criteria.admits(letter("wh-1", T0))
    assert criteria.admits(letter("wh-2", T0 + timedelta(minutes=59)))
    assert not criteria.admits(letter("wh-1", T0 - timedelta(seconds=1)))
    assert not criteria.admits(letter("wh-1", T0 + timedelta(hours=1)))
    assert not criteria.admits(letter("wh-3", T0))
    assert not criteria.admits(letter(None, T0))


def test_an_empty_replay_filter_admits_every_letter() -> None:
    assert ReplayFilter().admits(letter(None, T0))
