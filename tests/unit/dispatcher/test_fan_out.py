"""SPEC RT-9, RT-10: the execution requests one event causes, and their shapes."""

import pytest

from integrations.contracts import ExecutionSource
from integrations.dispatcher.domain.fan_out import plan_dispatch
from tests.unit.dispatcher.kit import CREDS, PR_FILTER, event, node, preset, webhook

pytestmark = pytest.mark.unit

PAYLOAD = {"action": "opened", "pull_request": {"title": "Fix"}}


def test_a_node_trigger_gets_the_payload_under_its_node() -> None:
    """SPEC RT-9: nodes_input_masks = {node_id: {"payload": payload}}"""
    [request] = plan_dispatch(event(payload=PAYLOAD), webhook(nodes=[node("n-1")])).requests
    assert request.nodes_input_masks == {"n-1": {"payload": PAYLOAD}}
    assert (request.user_id, request.graph_id, request.graph_version) == ("user-1", "graph-1", 3)
    assert request.preset_id is None
    assert request.credentials_inputs == {}
    assert request.redelivery == 0


def test_a_preset_gets_its_inputs_plus_the_payload_and_its_credentials_inputs() -> None:
    """SPEC RT-10"""
    state = webhook(presets=[preset("p-1", inputs={"repo": "o/r", "payload": "stale"})])
    [request] = plan_dispatch(event(payload=PAYLOAD), state).requests
    assert request.nodes_input_masks == {"node-9": {"repo": "o/r", "payload": PAYLOAD}}
    assert request.credentials_inputs == {"credentials": CREDS}
    assert (request.preset_id, request.graph_id, request.graph_version) == ("p-1", "graph-2", 1)


def test_every_request_names_its_source() -> None:
    state = webhook(nodes=[node("n-1")], presets=[preset("p-1")])
    sources = [r.source for r in plan_dispatch(event("ev-7"), state).requests]
    common = {"webhook_id": "wh-1", "provider": "github", "event_id": "ev-7"}
    assert sources == [
        ExecutionSource(**common, event_type="pull_request.opened", node_id="n-1"),
        ExecutionSource(**common, event_type="pull_request.opened", node_id="node-9"),
    ]


def test_one_request_per_matching_trigger_and_the_rest_skipped() -> None:
    state = webhook(
        nodes=[node("n-1"), node("n-2", filter=PR_FILTER)],
        presets=[preset("p-1"), preset("p-2", is_active=False)],
    )
    plan = plan_dispatch(event(event_type="push"), state)
    assert [r.source.node_id for r in plan.requests] == ["n-1", "node-9"]
    assert [s.reason for s in plan.skipped] == ["filter_mismatch", "preset_inactive"]
    assert plan.skip_reason is None


def test_a_redelivery_is_numbered_in_its_requests() -> None:
    [request] = plan_dispatch(event(), webhook(nodes=[node()]), redelivery=2).requests
    assert request.redelivery == 2


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (None, "webhook_unknown"),
        (webhook(user_id="someone-else", nodes=[node()]), "webhook_unknown"),
        (webhook(), "no_triggers"),
        (webhook(nodes=[node(filter=PR_FILTER)]), "no_match"),
    ],
)
def test_nothing_is_sent_when(state: object, reason: str) -> None:
    plan = plan_dispatch(event(event_type="push"), state)  # type: ignore[arg-type]
    assert plan.requests == ()
    assert plan.skip_reason == reason
