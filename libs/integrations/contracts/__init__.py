"""The public contract between the services: topics, messages, headers and codec.

Topic names are constants in `integrations.contracts.topics`; JSON Schema and AsyncAPI
generation lives in `integrations.contracts.schemas`.
"""

from integrations.contracts import topics
from integrations.contracts.cloudevents import (
    CloudEventAttributes,
    build_headers,
    is_valid_traceparent,
    is_valid_tracestate,
    parse_headers,
)
from integrations.contracts.codec import decode, decode_as, encode
from integrations.contracts.errors import (
    ContractError,
    DecodeError,
    InvalidHeaders,
    InvalidMessage,
    UnknownMessageType,
)
from integrations.contracts.messages.base import Command, Event, Message, Part
from integrations.contracts.messages.common import CredentialsReference, EventFilter
from integrations.contracts.messages.credentials import (
    CredentialsCreated,
    CredentialsDeleted,
    CredentialsRefreshed,
    CredentialsRefreshFailed,
    CredentialsUpdated,
    StoreOAuthCredentials,
    transport_associated_data,
)
from integrations.contracts.messages.dead_letters import DeadLetter, RecordHeader
from integrations.contracts.messages.executions import (
    ExecutionSource,
    GraphExecutionRejected,
    GraphExecutionRequested,
    RejectionReason,
)
from integrations.contracts.messages.triggers import (
    ActivateNodeTrigger,
    ActivatePresetTrigger,
    DeactivateNodeTrigger,
    DeactivatePresetTrigger,
    PresetDeactivated,
    TriggerActivated,
    TriggerActivationFailed,
    TriggerDeactivated,
    UnlinkGraphTriggers,
    WebhookPruned,
)
from integrations.contracts.messages.webhooks import (
    NodeTrigger,
    PresetTrigger,
    WebhookEventReceived,
    WebhookState,
)
from integrations.contracts.registry import (
    MESSAGE_TYPES,
    message_type_for,
    message_types_of_topic,
    registered_types,
)
from integrations.contracts.topics import TOPICS, TopicSpec, topic_spec

__all__ = [
    "MESSAGE_TYPES",
    "TOPICS",
    "ActivateNodeTrigger",
    "ActivatePresetTrigger",
    "CloudEventAttributes",
    "Command",
    "ContractError",
    "CredentialsCreated",
    "CredentialsDeleted",
    "CredentialsReference",
    "CredentialsRefreshFailed",
    "CredentialsRefreshed",
    "CredentialsUpdated",
    "DeactivateNodeTrigger",
    "DeactivatePresetTrigger",
    "DeadLetter",
    "DecodeError",
    "Event",
    "EventFilter",
    "ExecutionSource",
    "GraphExecutionRejected",
    "GraphExecutionRequested",
    "InvalidHeaders",
    "InvalidMessage",
    "Message",
    "NodeTrigger",
    "Part",
    "PresetDeactivated",
    "PresetTrigger",
    "RecordHeader",
    "RejectionReason",
    "StoreOAuthCredentials",
    "TopicSpec",
    "TriggerActivated",
    "TriggerActivationFailed",
    "TriggerDeactivated",
    "UnknownMessageType",
    "UnlinkGraphTriggers",
    "WebhookEventReceived",
    "WebhookPruned",
    "WebhookState",
    "build_headers",
    "decode",
    "decode_as",
    "encode",
    "is_valid_traceparent",
    "is_valid_tracestate",
    "message_type_for",
    "message_types_of_topic",
    "parse_headers",
    "registered_types",
    "topic_spec",
    "topics",
    "transport_associated_data",
]
