"""SPEC RT-9, RT-10: executor rejections become trigger commands."""

import pytest

from integrations.contracts import (
    DeactivatePresetTrigger,
    ExecutionSource,
    GraphExecutionRejected,
    UnlinkGraphTriggers,
)
from integrations.dispatcher.domain.rejections import trigger_command_for

pytestmark = pytest.mark.unit

SOURCE = ExecutionSource(
    webhook_id="wh-1", provider="github", event_id="ev-1", event_type="push", node_id="n-1"
)


def rejection(
    reason: str, preset_id: str | None = None, request_id: str = "r-1"
) -> GraphExecutionRejected:
    return GraphExecutionRejected.model_validate(
        {
            "request_id": request_id,
            "user_id": "user-1",
            "graph_id": "graph-1",
            "graph_version": 2,
            "preset_id": preset_id,
            "source": SOURCE.model_dump(),
            "reason": reason,
        }
    )


@pytest.mark.parametrize("preset_id", [None, "p-1"])
def test_a_graph_no_longer_in_the_library_unlinks_its_triggers_on_that_webhook(
    preset_id: str | None,
) -> None:
    """SPEC RT-9: orphan clean-up"""
    command = trigger_command_for(rejection("graph_not_in_library", preset_id))
    assert isinstance(command, UnlinkGraphTriggers)
    assert (command.user_id, command.graph_id, command.webhook_id, command.reason) == (
        "user-1",
        "graph-1",
        "wh-1",
        "graph_not_in_library",
    )


def test_an_inaccessible_graph_deactivates_the_preset_without_unlinking_it() -> None:
    """SPEC RT-10"""
    command = trigger_command_for(rejection("graph_not_accessible", "p-1"))
    assert isinstance(command, DeactivatePresetTrigger)
    assert (command.preset_id, command.webhook_id, command.unlink, command.reason) == (
        "p-1",
        "wh-1",
        False,
        "graph_not_accessible",
    )


@pytest.mark.parametrize(
    ("reason", "preset_id"),
    [("graph_not_accessible", None), ("unknown", "p-1"), ("quota_exceeded", None)],
)
def test_other_rejections_ask_for_nothing(reason: str, preset_id: str | None) -> None:
    assert trigger_command_for(rejection(reason, preset_id)) is None


def test_the_same_rejection_always_gives_the_same_command_id() -> None:
    """Credentials dedupes commands by id: a redelivered rejection must not count twice."""
    first = trigger_command_for(rejection("graph_not_in_library"))
    again = trigger_command_for(rejection("graph_not_in_library"))
    other = trigger_command_for(rejection("graph_not_in_library", request_id="r-2"))
    assert first is not None
    assert again is not None
    assert other is not None
    assert first.command_id == again.command_id != other.command_id
