"""JSON Schemas of every message and the AsyncAPI 3.0 document, generated from the code.

Output is deterministic (sorted keys, two-space indent, trailing newline) so CI can
regenerate it and fail on drift.
"""

import json
import re
from pathlib import Path
from typing import Any, Final

from pydantic.json_schema import models_json_schema

from integrations.contracts import cloudevents
from integrations.contracts.messages.base import Message
from integrations.contracts.registry import MESSAGE_TYPES, registered_types
from integrations.contracts.topics import INTEGRATIONS_SERVICES, TOPICS, TopicSpec

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
ASYNCAPI_VERSION: Final = "3.0.0"
KAFKA_BINDING_VERSION: Final = "0.5.0"
SCHEMA_SUFFIX: Final = ".schema.json"
ASYNCAPI_FILE: Final = "asyncapi.json"
HEADERS_SCHEMA: Final = "CloudEventsHeaders"

_COMPONENT_SCHEMAS: Final = "#/components/schemas/"


def json_schemas() -> dict[str, dict[str, Any]]:
    """Standalone JSON Schema (validation mode) of every message, keyed by ce_type."""
    return {ce_type: _standalone_schema(cls) for ce_type, cls in registered_types().items()}


def _standalone_schema(message_type: type[Message]) -> dict[str, Any]:
    return {
        "$schema": JSON_SCHEMA_DIALECT,
        **message_type.model_json_schema(mode="validation"),
        "x-cloudevents-type": message_type.ce_type,
        "x-kafka-topic": message_type.topic,
    }


def cloudevents_headers_schema() -> dict[str, Any]:
    text = {"type": "string", "minLength": 1}
    return {
        "type": "object",
        "description": "CloudEvents 1.0 Kafka binary-mode attributes and W3C trace context.",
        "properties": {
            cloudevents.CE_SPECVERSION: {"type": "string", "const": cloudevents.SPEC_VERSION},
            cloudevents.CE_ID: {**text, "description": "Unique id of this record's event."},
            cloudevents.CE_TYPE: {**text, "description": "The message type."},
            cloudevents.CE_SOURCE: {**text, "description": "URI reference of the producer."},
            cloudevents.CE_TIME: {"type": "string", "format": "date-time"},
            cloudevents.CONTENT_TYPE_HEADER: {"type": "string", "const": cloudevents.CONTENT_TYPE},
            cloudevents.TRACEPARENT: {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}(-.*)?$",
                "description": "W3C Trace Context traceparent.",
            },
            cloudevents.TRACESTATE: {"type": "string", "description": "W3C tracestate."},
        },
        "required": [
            cloudevents.CE_SPECVERSION,
            cloudevents.CE_ID,
            cloudevents.CE_TYPE,
            cloudevents.CE_SOURCE,
            cloudevents.CE_TIME,
            cloudevents.CONTENT_TYPE_HEADER,
        ],
    }


def asyncapi_document(service_title: str, version: str) -> dict[str, Any]:
    """AsyncAPI 3.0: a channel per topic, `to_*`/`on_*` operations of the integrations
    services, Kafka bindings, and the messages with payload and header schemas."""
    refs, definitions = models_json_schema(
        [(message_type, "validation") for message_type in MESSAGE_TYPES],
        ref_template=_COMPONENT_SCHEMAS + "{model}",
    )
    messages = {
        message_type.__name__: _message(message_type, refs[(message_type, "validation")])
        for message_type in MESSAGE_TYPES
    }
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for spec in TOPICS:
        channels[spec.name] = _channel(spec)
        operations.update(_operations(spec))
    return {
        "asyncapi": ASYNCAPI_VERSION,
        "info": {
            "title": service_title,
            "version": version,
            "description": "Kafka topics and messages of the integrations backend. Bodies are "
            "JSON; CloudEvents attributes travel as `ce_*` headers (binary mode).",
        },
        "defaultContentType": cloudevents.CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": {
                **definitions.get("$defs", {}),
                HEADERS_SCHEMA: cloudevents_headers_schema(),
            },
        },
    }


def _message(message_type: type[Message], payload_ref: dict[str, Any]) -> dict[str, Any]:
    spec = _spec_of(message_type)
    message: dict[str, Any] = {
        "name": message_type.__name__,
        "title": message_type.__name__,
        "summary": _summary(message_type),
        "contentType": cloudevents.CONTENT_TYPE,
        "payload": payload_ref,
        "headers": {
            "allOf": [
                {"$ref": _COMPONENT_SCHEMAS + HEADERS_SCHEMA},
                {
                    "type": "object",
                    "properties": {
                        cloudevents.CE_TYPE: {"type": "string", "const": message_type.ce_type}
                    },
                },
            ]
        },
        "bindings": {
            "kafka": {
                "key": {"type": "string", "description": spec.key_description},
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-cloudevents-type": message_type.ce_type,
    }
    if "command_id" in message_type.model_fields:
        message["correlationId"] = {
            "description": "Commands and the events answering them share `command_id`.",
            "location": "$message.payload#/command_id",
        }
    return message


def _summary(message_type: type[Message]) -> str:
    first_paragraph = (message_type.__doc__ or "").strip().split("\n\n")[0]
    return " ".join(first_paragraph.split()) or message_type.__name__


def _spec_of(message_type: type[Message]) -> TopicSpec:
    return next(spec for spec in TOPICS if spec.name == message_type.topic)


def _channel(spec: TopicSpec) -> dict[str, Any]:
    topic_configuration: dict[str, Any] = {"cleanup.policy": [spec.cleanup_policy]}
    if spec.retention_ms is not None:
        topic_configuration["retention.ms"] = spec.retention_ms
    if spec.max_message_bytes is not None:
        topic_configuration["max.message.bytes"] = spec.max_message_bytes
    return {
        "address": spec.name,
        "title": spec.name,
        "description": f"{spec.description} Key: {spec.key_description}. "
        f"Producers: {', '.join(spec.producers)}. Consumers: {', '.join(spec.consumers)}.",
        "messages": {
            message_type.__name__: {"$ref": f"#/components/messages/{message_type.__name__}"}
            for message_type in spec.message_types
        },
        "bindings": {
            "kafka": {
                "partitions": spec.partitions,
                "topicConfiguration": topic_configuration,
                "bindingVersion": KAFKA_BINDING_VERSION,
            }
        },
        "x-producers": list(spec.producers),
        "x-consumers": list(spec.consumers),
    }


def _operations(spec: TopicSpec) -> dict[str, Any]:
    slug = _slug(spec.name)
    channel_ref = {"$ref": f"#/channels/{_pointer(spec.name)}"}
    message_refs = [
        {"$ref": f"#/channels/{_pointer(spec.name)}/messages/{message_type.__name__}"}
        for message_type in spec.message_types
    ]
    operations: dict[str, Any] = {}
    producers = [name for name in spec.producers if name in INTEGRATIONS_SERVICES]
    consumers = [name for name in spec.consumers if name in INTEGRATIONS_SERVICES]
    if producers:
        operations[f"to_{slug}"] = {
            "action": "send",
            "channel": channel_ref,
            "messages": message_refs,
            "summary": f"Published by {', '.join(producers)}.",
        }
    if consumers:
        operations[f"on_{slug}"] = {
            "action": "receive",
            "channel": channel_ref,
            "messages": message_refs,
            "summary": f"Consumed by {', '.join(consumers)}.",
        }
    return operations


def _slug(topic: str) -> str:
    # `integrations.webhook-events.dlq.v1` → `webhook_events_dlq`
    inner = topic.split(".")[1:-1]
    return re.sub(r"[^a-z0-9]+", "_", "_".join(inner))


def _pointer(name: str) -> str:
    # JSON Pointer escaping (RFC 6901), in case a name ever holds `~` or `/`.
    return name.replace("~", "~0").replace("/", "~1")


def render_json(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_schemas(
    folder: Path | str,
    *,
    service_title: str = "Integrations platform",
    version: str = "1.0.0",
) -> list[Path]:
    """Write `<ce_type>.schema.json` per message and `asyncapi.json` into `folder`.

    Stale `*.schema.json` files (of messages that no longer exist) are removed, so the folder
    always mirrors the code. Returns the written paths, sorted.
    """
    target = Path(folder)
    target.mkdir(parents=True, exist_ok=True)
    documents = {f"{name}{SCHEMA_SUFFIX}": schema for name, schema in json_schemas().items()}
    documents[ASYNCAPI_FILE] = asyncapi_document(service_title, version)
    for stale in target.glob(f"*{SCHEMA_SUFFIX}"):
        if stale.name not in documents:
            stale.unlink()
    written = []
    for file_name, document in sorted(documents.items()):
        path = target / file_name
        path.write_text(render_json(document), encoding="utf-8")
        written.append(path)
    return written
