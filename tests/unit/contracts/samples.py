"""One valid instance of every registered message type.

`test_every_registered_message_has_a_sample` fails when a message is registered without one
here, so every new message is round-tripped and checked against its schema.
"""

from datetime import UTC, datetime

from integrations.contracts import (
    ActivateNodeTrigger,
    ActivatePresetTrigger,
    CredentialsCreated,
    CredentialsDeleted,
    CredentialsReference,
    CredentialsRefreshed,
    CredentialsRefreshFailed,
    CredentialsUpdated,
    DeactivateNodeTrigger,
    DeactivatePresetTrigger,
    DeadLetter,
    EventFilter,
    ExecutionSource,
    GraphExecutionRejected,
    GraphExecutionRequested,
    Message,
    NodeTrigger,
    PresetDeactivated,
    PresetTrigger,
    StoreOAuthCredentials,
    TriggerActivated,
    TriggerActivationFailed,
    TriggerDeactivated,
    UnlinkGraphTriggers,
    WebhookEventReceived,
    WebhookPruned,
    WebhookState,
    topics,
)

NOW = datetime(2025, 1, 2, 3, 4, 5, 678000, tzinfo=UTC)
USER = "user-1"
WEBHOOK = "wh-1"
GRAPH = "graph-1"
COMMAND = "cmd-1"
INGRESS_URL = "https://platform.example/api/integrations/github/webhooks/wh-1/ingress"

PR_FILTER = EventFilter(
    input_name="events",
    event_format="pull_request.{event}",
    choices={"opened": True, "closed": False},
)
GITHUB_CREDS = CredentialsReference(id="cred-1", provider="github", type="oauth2", title="Me")
SOURCE = ExecutionSource(
    webhook_id=WEBHOOK,
    provider="github",
    event_id="delivery-1",
    event_type="pull_request.opened",
    node_id="node-1",
)

SAMPLES: tuple[Message, ...] = (
    WebhookEventReceived(
        event_id="delivery-1",
        provider="github",
        webhook_id=WEBHOOK,
        user_id=USER,
        event_type="pull_request.opened",
        payload={"action": "opened", "number": 7, "pull_request": {"title": "Fix ✓"}},
        received_at=NOW,
        headers={"x-github-delivery": "delivery-1", "x-github-event": "pull_request"},
    ),
    WebhookState(
        webhook_id=WEBHOOK,
        user_id=USER,
        provider="github",
        credentials_id="cred-1",
        webhook_type="repo",
        resource="owner/repo",
        events=["pull_request"],
        config={"url": INGRESS_URL, "content_type": "json"},
        secret_ciphertext="v1:key-1:bm9uY2U:Y2lwaGVydGV4dA",
        provider_webhook_id="12345",
        manual=False,
        ingress_url=INGRESS_URL,
        node_triggers=[
            NodeTrigger(node_id="node-1", graph_id=GRAPH, graph_version=3, filter=PR_FILTER)
        ],
        preset_triggers=[
            PresetTrigger(
                preset_id="preset-1",
                graph_id="graph-2",
                graph_version=1,
                trigger_node_id="node-9",
                is_active=True,
                inputs={"events": {"opened": True}, "repo": "owner/repo"},
                credentials_inputs={"credentials": GITHUB_CREDS},
                filter=PR_FILTER,
            )
        ],
        version=4,
        updated_at=NOW,
    ),
    StoreOAuthCredentials(
        command_id=COMMAND,
        user_id=USER,
        credentials_id="cred-1",
        provider="github",
        title="GitHub (me)",
        scopes=["repo", "read:user"],
        username="me",
        access_token_ciphertext="v1:key-1:bm9uY2U:YWNjZXNz",
        access_token_expires_at=NOW,
        refresh_token_ciphertext="v1:key-1:bm9uY2U:cmVmcmVzaA",
        refresh_token_expires_at=NOW,
        metadata={"installation": 1},
    ),
    CredentialsCreated(
        user_id=USER,
        credentials_id="cred-1",
        provider="github",
        credentials_type="oauth2",
        title="GitHub (me)",
        command_id=COMMAND,
        scopes=["repo"],
        username="me",
        expires_at=NOW,
    ),
    CredentialsUpdated(
        user_id=USER,
        credentials_id="cred-2",
        provider="example",
        credentials_type="host_scoped",
        host="*.example.com",
    ),
    CredentialsRefreshed(
        user_id=USER,
        credentials_id="cred-1",
        provider="github",
        credentials_type="oauth2",
        scopes=["repo"],
        expires_at=NOW,
    ),
    CredentialsRefreshFailed(
        user_id=USER,
        credentials_id="cred-1",
        provider="github",
        credentials_type="oauth2",
        reason="the provider rejected the refresh token",
        reauthorization_required=True,
    ),
    CredentialsDeleted(
        user_id=USER,
        credentials_id="cred-1",
        provider="github",
        credentials_type="oauth2",
        revoked=None,
    ),
    ActivateNodeTrigger(
        command_id=COMMAND,
        user_id=USER,
        provider="github",
        webhook_type="repo",
        resource="owner/repo",
        events=["pull_request.opened"],
        credentials_id="cred-1",
        graph_id=GRAPH,
        graph_version=3,
        node_id="node-1",
        filter=PR_FILTER,
    ),
    DeactivateNodeTrigger(
        user_id=USER, graph_id=GRAPH, graph_version=3, node_id="node-1", webhook_id=WEBHOOK
    ),
    ActivatePresetTrigger(
        user_id=USER,
        provider="generic_webhook",
        webhook_type="plain",
        events=["*"],
        manual=True,
        preset_id="preset-1",
        graph_id="graph-2",
        graph_version=1,
        trigger_node_id="node-9",
        inputs={"greeting": "hi"},
        credentials_inputs={"credentials": GITHUB_CREDS},
    ),
    DeactivatePresetTrigger(user_id=USER, preset_id="preset-1", reason="graph_not_accessible"),
    UnlinkGraphTriggers(
        user_id=USER, graph_id=GRAPH, webhook_id=WEBHOOK, reason="graph_not_in_library"
    ),
    TriggerActivated(
        user_id=USER,
        command_id=COMMAND,
        webhook_id=WEBHOOK,
        ingress_url=INGRESS_URL,
        provider="github",
        graph_id=GRAPH,
        graph_version=3,
        node_id="node-1",
        manual=False,
        new_webhook=True,
    ),
    TriggerDeactivated(
        user_id=USER, webhook_id=WEBHOOK, graph_id=GRAPH, preset_id="preset-1", reason="unlinked"
    ),
    PresetDeactivated(
        user_id=USER,
        preset_id="preset-1",
        graph_id="graph-2",
        webhook_id=WEBHOOK,
        reason="graph_not_accessible",
    ),
    WebhookPruned(user_id=USER, webhook_id=WEBHOOK, provider="github", deregistered=True),
    TriggerActivationFailed(
        user_id=USER,
        command_id=COMMAND,
        provider="github",
        graph_id=GRAPH,
        node_id="node-1",
        error_code="credentials_not_found",
        reason="The selected GitHub credentials no longer exist.",
    ),
    GraphExecutionRequested(
        request_id="7d1f2c50-6f0e-5c0b-9a4e-2f1f4f7c9d11",
        user_id=USER,
        graph_id="graph-2",
        graph_version=1,
        preset_id="preset-1",
        nodes_input_masks={"node-9": {"greeting": "hi", "payload": {"action": "opened"}}},
        credentials_inputs={"credentials": GITHUB_CREDS},
        source=SOURCE,
        redelivery=1,
    ),
    GraphExecutionRejected(
        request_id="7d1f2c50-6f0e-5c0b-9a4e-2f1f4f7c9d11",
        user_id=USER,
        graph_id="graph-2",
        graph_version=1,
        preset_id="preset-1",
        source=SOURCE,
        reason="graph_not_accessible",
        detail="The graph is not shared with this user.",
    ),
    DeadLetter.from_record(
        topic=topics.WEBHOOK_EVENTS,
        partition=3,
        offset=42,
        key=WEBHOOK.encode(),
        value=b"\xff not json",
        headers=[("ce_type", b"integrations.webhook-event.received.v1"), ("empty", None)],
        error=ValueError("invalid body"),
        attempts=5,
        failed_at=NOW,
        timestamp=NOW,
        consumer_group="dispatcher",
    ),
)

SAMPLE_BY_TYPE: dict[type[Message], Message] = {type(sample): sample for sample in SAMPLES}
