"""What an executor rejection asks of the trigger links (SPEC RT-9, RT-10)."""

import uuid
from typing import Final

from integrations.contracts import (
    DeactivatePresetTrigger,
    GraphExecutionRejected,
    UnlinkGraphTriggers,
)

# Fixed forever: command ids derive from it, and credentials dedupes commands by id.
COMMAND_ID_NAMESPACE: Final = uuid.UUID("d16cbe1d-31a4-4930-8afc-5f6601e7bf6e")

TriggerCommand = UnlinkGraphTriggers | DeactivatePresetTrigger


def trigger_command_for(rejection: GraphExecutionRejected) -> TriggerCommand | None:
    """`graph_not_in_library`: unlink that graph's triggers on the webhook (orphan clean-up);
    `graph_not_accessible` for a preset: deactivate the preset; anything else: nothing.

    The command id derives from the rejected request, so a redelivered rejection sends the
    same command again and credentials applies it once.
    """
    command_id = str(uuid.uuid5(COMMAND_ID_NAMESPACE, f"{rejection.request_id} {rejection.reason}"))
    if rejection.reason == "graph_not_in_library":
        return UnlinkGraphTriggers(
            command_id=command_id,
            user_id=rejection.user_id,
            graph_id=rejection.graph_id,
            webhook_id=rejection.source.webhook_id,
            reason="graph_not_in_library",
        )
    if rejection.reason == "graph_not_accessible" and rejection.preset_id is not None:
        return DeactivatePresetTrigger(
            command_id=command_id,
            user_id=rejection.user_id,
            preset_id=rejection.preset_id,
            webhook_id=rejection.source.webhook_id,
            unlink=False,
            reason="graph_not_accessible",
        )
    return None
