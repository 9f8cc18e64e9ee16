import json
from pathlib import Path
from typing import Any

# No stubs in the dev dependencies (types-jsonschema); only used to check our output.
import jsonschema
import pytest

from integrations.contracts import TOPICS, Command, Message, build_headers, encode, registered_types
from integrations.contracts.cloudevents import header_map
from integrations.contracts.schemas import (
    asyncapi_document,
    cloudevents_headers_schema,
    json_schemas,
    write_schemas,
)
from tests.unit.contracts.samples import SAMPLE_BY_TYPE

pytestmark = pytest.mark.unit

MESSAGE_TYPES = list(registered_types().values())


def _validator(schema: dict[str, Any]) -> Any:
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema, format_checker=validator_class.FORMAT_CHECKER)


def _resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [ref for value in node.values() for ref in _refs(value)]
    if isinstance(node, list):
        return [ref for value in node for ref in _refs(value)]
    return []


def test_there_is_a_schema_per_message_keyed_by_ce_type() -> None:
    assert set(json_schemas()) == set(registered_types())


@pytest.mark.parametrize("message_type", MESSAGE_TYPES, ids=lambda t: t.__name__)
def test_every_sample_validates_against_its_schema(message_type: type[Message]) -> None:
    schema = json_schemas()[message_type.ce_type]

    _validator(schema).validate(json.loads(encode(SAMPLE_BY_TYPE[message_type])))


@pytest.mark.parametrize("message_type", MESSAGE_TYPES, ids=lambda t: t.__name__)
def test_schemas_reject_a_body_missing_required_fields(message_type: type[Message]) -> None:
    schema = json_schemas()[message_type.ce_type]

    assert not _validator(schema).is_valid({})


@pytest.mark.parametrize("message_type", MESSAGE_TYPES, ids=lambda t: t.__name__)
def test_command_schemas_forbid_extra_fields_and_event_schemas_allow_them(
    message_type: type[Message],
) -> None:
    schema = json_schemas()[message_type.ce_type]
    body = {**json.loads(encode(SAMPLE_BY_TYPE[message_type])), "added": 1}

    assert _validator(schema).is_valid(body) is not issubclass(message_type, Command)


def test_sample_headers_validate_against_the_headers_schema() -> None:
    validator = _validator(
        {"$schema": "https://json-schema.org/draft/2020-12/schema"} | cloudevents_headers_schema()
    )
    headers = build_headers(
        SAMPLE_BY_TYPE[MESSAGE_TYPES[0]],
        source="/test",
        traceparent="00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
    )

    validator.validate(header_map(headers))


def test_asyncapi_lists_every_topic_and_message() -> None:
    document = asyncapi_document("Integrations", "1.2.3")

    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["version"] == "1.2.3"
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == {spec.name for spec in TOPICS}
    assert set(document["components"]["messages"]) == {t.__name__ for t in MESSAGE_TYPES}
    for message_type in MESSAGE_TYPES:
        channel = document["channels"][message_type.topic]
        assert message_type.__name__ in channel["messages"]


def test_asyncapi_channels_carry_the_kafka_settings() -> None:
    document = asyncapi_document("Integrations", "1.0.0")

    for spec in TOPICS:
        binding = document["channels"][spec.name]["bindings"]["kafka"]
        assert binding["partitions"] == spec.partitions
        assert binding["topicConfiguration"]["cleanup.policy"] == [spec.cleanup_policy]
        assert binding["topicConfiguration"].get("retention.ms") == spec.retention_ms
        assert binding["topicConfiguration"].get("max.message.bytes") == spec.max_message_bytes


def test_asyncapi_references_all_resolve() -> None:
    document = asyncapi_document("Integrations", "1.0.0")

    refs = _refs(document)

    assert refs
    for ref in refs:
        _resolve(document, ref)


def test_asyncapi_operations_send_and_receive_from_the_integrations_side() -> None:
    operations = asyncapi_document("Integrations", "1.0.0")["operations"]

    assert operations["to_webhook_events"]["action"] == "send"
    assert operations["on_webhook_events"]["action"] == "receive"
    assert operations["to_graph_execution_requests"]["action"] == "send"
    assert "on_graph_execution_requests" not in operations
    assert operations["on_graph_execution_results"]["action"] == "receive"
    assert "to_graph_execution_results" not in operations


@pytest.mark.parametrize("message_type", MESSAGE_TYPES, ids=lambda t: t.__name__)
def test_asyncapi_payloads_validate_the_samples(message_type: type[Message]) -> None:
    document = asyncapi_document("Integrations", "1.0.0")
    message = document["components"]["messages"][message_type.__name__]
    # Wrap the components so the payload's `#/components/schemas/...` refs resolve.
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": document["components"],
        **message["payload"],
    }

    _validator(schema).validate(json.loads(encode(SAMPLE_BY_TYPE[message_type])))
    assert message["headers"]["allOf"][1]["properties"]["ce_type"]["const"] == (
        message_type.ce_type
    )


def test_write_schemas_is_deterministic_and_removes_stale_files(tmp_path: Path) -> None:
    stale = tmp_path / "integrations.gone.removed.v1.schema.json"
    stale.write_text("{}\n")
    unrelated = tmp_path / "README.md"
    unrelated.write_text("kept\n")

    written = write_schemas(tmp_path)
    first = {path.name: path.read_bytes() for path in written}
    write_schemas(tmp_path)
    second = {path.name: path.read_bytes() for path in tmp_path.glob("*.json")}

    assert first == second
    assert not stale.exists()
    assert unrelated.exists()
    assert set(first) == {f"{t}.schema.json" for t in registered_types()} | {"asyncapi.json"}
    for content in first.values():
        text = content.decode()
        assert text.endswith("}\n")
        assert (
            text
            == json.dumps(json.loads(text), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
