"""Every message type, by its CloudEvents type.

ce_type scheme: `<namespace>.<entity>.<action>.v<major>`
- namespace: the owning topic's namespace (`integrations` or `platform`);
- entity: kebab-case noun (`webhook-event`, `credentials`, `node-trigger`);
- action: past participle for events (`received`, `refresh-failed`), imperative verb for
  commands (`store`, `activate`), `state` for compacted state snapshots;
- major: the topic's version; a breaking change gets a new topic and a new major.
"""

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from integrations.contracts.errors import UnknownMessageType
from integrations.contracts.messages.base import Message
from integrations.contracts.messages.credentials import (
    CredentialsCreated,
    CredentialsDeleted,
    CredentialsRefreshed,
    CredentialsRefreshFailed,
    CredentialsUpdated,
    StoreOAuthCredentials,
)
from integrations.contracts.messages.dead_letters import DeadLetter
from integrations.contracts.messages.executions import (
    GraphExecutionRejected,
    GraphExecutionRequested,
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
from integrations.contracts.messages.webhooks import WebhookEventReceived, WebhookState
from integrations.contracts.topics import TOPIC_NAMES

CE_TYPE_PATTERN: Final = re.compile(
    r"(?P<namespace>integrations|platform)\.[a-z]+(?:-[a-z]+)*\.[a-z]+(?:-[a-z]+)*\.v[1-9]\d*"
)

MESSAGE_TYPES: Final[tuple[type[Message], ...]] = (
    WebhookEventReceived,
    WebhookState,
    StoreOAuthCredentials,
    CredentialsCreated,
    CredentialsUpdated,
    CredentialsRefreshed,
    CredentialsRefreshFailed,
    CredentialsDeleted,
    ActivateNodeTrigger,
    DeactivateNodeTrigger,
    ActivatePresetTrigger,
    DeactivatePresetTrigger,
    UnlinkGraphTriggers,
    TriggerActivated,
    TriggerDeactivated,
    PresetDeactivated,
    WebhookPruned,
    TriggerActivationFailed,
    GraphExecutionRequested,
    GraphExecutionRejected,
    DeadLetter,
)


def _check(message_type: type[Message]) -> None:
    # Fail at import: a malformed registration would otherwise surface as dead letters.
    match = CE_TYPE_PATTERN.fullmatch(message_type.ce_type)
    if match is None:
        raise ValueError(f"{message_type.__name__}.ce_type does not follow the scheme")
    if message_type.topic not in TOPIC_NAMES:
        raise ValueError(f"{message_type.__name__}.topic is not a known topic")
    if not message_type.topic.startswith(match["namespace"] + "."):
        raise ValueError(f"{message_type.__name__}.ce_type namespace differs from its topic's")


def _index(message_types: tuple[type[Message], ...]) -> dict[str, type[Message]]:
    index: dict[str, type[Message]] = {}
    for message_type in message_types:
        _check(message_type)
        if message_type.ce_type in index:
            raise ValueError(f"duplicate ce_type {message_type.ce_type!r}")
        index[message_type.ce_type] = message_type
    return index


_BY_CE_TYPE: Final = MappingProxyType(_index(MESSAGE_TYPES))


def registered_types() -> Mapping[str, type[Message]]:
    return _BY_CE_TYPE


def message_type_for(ce_type: str | None) -> type[Message]:
    if ce_type is None or ce_type not in _BY_CE_TYPE:
        raise UnknownMessageType(ce_type)
    return _BY_CE_TYPE[ce_type]


def message_types_of_topic(topic: str) -> tuple[type[Message], ...]:
    return tuple(message_type for message_type in MESSAGE_TYPES if message_type.topic == topic)
