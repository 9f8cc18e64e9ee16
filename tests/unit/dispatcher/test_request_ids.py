"""Deterministic request ids: the same event and target always give the same id."""

import uuid

import pytest

from integrations.dispatcher.domain.fan_out import plan_dispatch
from integrations.dispatcher.domain.request_ids import request_id, target_key
from tests.unit.dispatcher.kit import event, node, preset, webhook

pytestmark = pytest.mark.unit


def rid(**overrides: object) -> str:
    fields: dict[str, object] = {
        "webhook_id": "wh-1",
        "event_id": "ev-1",
        "target": "node:graph-1:node-1",
    }
    fields.update(overrides)
    return request_id(**fields)  # type: ignore[arg-type]


def test_a_request_id_is_a_uuid5_that_never_changes() -> None:
    """Pinned: the executor dedupes on these ids across deployments, restarts and replays."""
    assert rid() == "06b0f2e2-c4ff-5b25-a563-07abdd8ca888"
    assert rid(redelivery=1) == "7fb785b2-4a62-5003-a9e4-366274624655"
    assert uuid.UUID(rid()).version == 5


def test_it_depends_on_webhook_event_target_and_redelivery() -> None:
    ids = {
        rid(),
        rid(webhook_id="wh-2"),
        rid(event_id="ev-2"),
        rid(target="preset:p-1"),
        rid(redelivery=1),
        rid(redelivery=2),
    }
    assert len(ids) == 6


def test_the_original_delivery_is_redelivery_zero() -> None:
    assert rid(redelivery=0) == rid()


def test_parts_cannot_run_into_each_other() -> None:
    assert rid(webhook_id="a", event_id="b-c") != rid(webhook_id="a-b", event_id="c")


def test_a_negative_redelivery_is_refused() -> None:
    with pytest.raises(ValueError):
        rid(redelivery=-1)


def test_targets_name_a_node_by_graph_and_node_and_a_preset_by_itself() -> None:
    assert target_key(node("n-1", graph_id="g-1")) == "node:g-1:n-1"
    assert target_key(preset("p-1")) == "preset:p-1"


def test_planning_twice_gives_the_same_ids_and_a_redelivery_new_ones() -> None:
    state = webhook(nodes=[node()], presets=[preset()])
    first = [r.request_id for r in plan_dispatch(event(), state).requests]
    again = [r.request_id for r in plan_dispatch(event(), state).requests]
    redelivered = [r.request_id for r in plan_dispatch(event(), state, redelivery=1).requests]
    assert first == again
    assert len(set(first)) == 2
    assert not set(first) & set(redelivered)
    assert redelivered == [
        r.request_id for r in plan_dispatch(event(), state, redelivery=1).requests
    ]
