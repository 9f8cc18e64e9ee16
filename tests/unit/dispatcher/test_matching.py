"""SPEC RT-10, RT-11: which triggers an event type selects."""

import pytest

from integrations.contracts import EventFilter
from integrations.dispatcher.domain.matching import filter_matches, select_triggers
from integrations.dispatcher.domain.request_ids import target_key
from tests.unit.dispatcher.kit import PR_FILTER, node, preset, webhook

pytestmark = pytest.mark.unit


def test_no_filter_input_matches_every_event_type() -> None:
    """SPEC RT-11"""
    assert filter_matches(None, "pull_request.opened")
    assert filter_matches(None, "ping")


@pytest.mark.parametrize(
    ("event_type", "matches"),
    [
        ("pull_request.opened", True),
        ("pull_request.closed", False),  # a choice set to false
        ("pull_request.edited", False),  # a choice the filter does not name
        ("issues.opened", False),  # the right choice in another format
        ("opened", False),
    ],
)
def test_a_filter_matches_the_format_of_each_true_choice_only(
    event_type: str, matches: bool
) -> None:
    """SPEC RT-11"""
    assert filter_matches(PR_FILTER, event_type) is matches


def test_a_filter_with_every_choice_false_matches_nothing() -> None:
    """SPEC RT-11"""
    nothing = EventFilter(input_name="events", event_format="{event}", choices={"push": False})
    assert not filter_matches(nothing, "push")


@pytest.mark.parametrize(
    ("event_format", "choices", "event_type"),
    [
        ("{event}", {"push": True}, "push"),
        ("pull_request.{event}", {"review_requested": True}, "pull_request.review_requested"),
        ("{event}.created", {"issue": True}, "issue.created"),
        ("{event}/{event}", {"a": True}, "a/a"),
        # Choices are user input: braces in them are text, never a template.
        ("x.{event}", {"{0}": True}, "x.{0}"),
    ],
)
def test_formats_place_each_choice_where_event_stands(
    event_format: str, choices: dict[str, bool], event_type: str
) -> None:
    """SPEC RT-11"""
    event_filter = EventFilter(input_name="events", event_format=event_format, choices=choices)
    assert filter_matches(event_filter, event_type)


def test_selection_keeps_matching_triggers_and_says_why_others_were_skipped() -> None:
    """SPEC RT-10"""
    state = webhook(
        nodes=[node("n-any"), node("n-pr", filter=PR_FILTER)],
        presets=[
            preset("p-on"),
            preset("p-off", is_active=False),
            preset("p-pr", filter=PR_FILTER),
        ],
    )
    selection = select_triggers(state, "pull_request.closed")
    assert [target_key(t) for t in selection.matched] == ["node:graph-1:n-any", "preset:p-on"]
    assert [(s.node_id, s.preset_id, s.reason) for s in selection.skipped] == [
        ("n-pr", None, "filter_mismatch"),
        ("node-9", "p-off", "preset_inactive"),
        ("node-9", "p-pr", "filter_mismatch"),
    ]


def test_an_inactive_preset_is_skipped_even_when_its_filter_matches() -> None:
    """SPEC RT-10: inactive → skip comes before the filter."""
    state = webhook(presets=[preset(is_active=False, filter=PR_FILTER)])
    [skipped] = select_triggers(state, "pull_request.opened").skipped
    assert skipped.reason == "preset_inactive"


def test_a_trigger_linked_twice_is_selected_once() -> None:
    state = webhook(nodes=[node("n-1"), node("n-1")], presets=[preset("p-1"), preset("p-1")])
    assert len(select_triggers(state, "push").matched) == 2
