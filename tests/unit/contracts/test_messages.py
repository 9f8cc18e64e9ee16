import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pydantic
import pytest

from integrations.contracts import (
    ActivateNodeTrigger,
    Command,
    CredentialsCreated,
    CredentialsDeleted,
    CredentialsRefreshed,
    CredentialsRefreshFailed,
    CredentialsUpdated,
    DeadLetter,
    Event,
    EventFilter,
    GraphExecutionRejected,
    Message,
    Part,
    StoreOAuthCredentials,
    WebhookEventReceived,
    WebhookState,
    decode_as,
    encode,
    registered_types,
)
from tests.unit.contracts.samples import NOW, SAMPLE_BY_TYPE, SAMPLES

pytestmark = pytest.mark.unit

MESSAGE_TYPES = list(registered_types().values())


def _ids(message_type: type[Message]) -> str:
    return message_type.__name__


def _data(message: Message) -> dict[str, Any]:
    return message.model_dump(mode="json")


def _all_models(message_type: type[pydantic.BaseModel]) -> set[type[pydantic.BaseModel]]:
    """The model and every model nested in its fields."""
    found = {message_type}
    for field in message_type.model_fields.values():
        for candidate in _types_in(field.annotation):
            if isinstance(candidate, type) and issubclass(candidate, pydantic.BaseModel):
                found |= _all_models(candidate)
    return found


def _types_in(annotation: Any) -> list[Any]:
    args = getattr(annotation, "__args__", ())
    return [annotation, *[nested for arg in args for nested in _types_in(arg)]]


def test_every_registered_message_has_a_sample() -> None:
    assert set(SAMPLE_BY_TYPE) == set(MESSAGE_TYPES)
    assert len(SAMPLES) == len(SAMPLE_BY_TYPE), "one sample per type"


def test_every_message_class_is_registered() -> None:
    def concrete(cls: type[Message]) -> set[type[Message]]:
        found = {cls} if "ce_type" in vars(cls) else set()
        for subclass in cls.__subclasses__():
            found |= concrete(subclass)
        return found

    assert concrete(Message) == set(MESSAGE_TYPES)


@pytest.mark.parametrize("message_type", MESSAGE_TYPES, ids=_ids)
def test_message_round_trips_through_json(message_type: type[Message]) -> None:
    sample = SAMPLE_BY_TYPE[message_type]

    decoded = decode_as(message_type, encode(sample))

    assert decoded == sample
    assert encode(decoded) == encode(sample)


@pytest.mark.parametrize("message_type", MESSAGE_TYPES, ids=_ids)
def test_message_is_either_an_event_or_a_command(message_type: type[Message]) -> None:
    assert issubclass(message_type, Event) != issubclass(message_type, Command)


@pytest.mark.parametrize("message_type", MESSAGE_TYPES, ids=_ids)
def test_every_field_of_every_message_and_part_has_a_description(
    message_type: type[Message],
) -> None:
    for model in _all_models(message_type):
        missing = [name for name, field in model.model_fields.items() if not field.description]
        assert missing == [], f"{model.__name__} fields without description: {missing}"


@pytest.mark.parametrize("message_type", MESSAGE_TYPES, ids=_ids)
def test_messages_are_frozen(message_type: type[Message]) -> None:
    sample = SAMPLE_BY_TYPE[message_type]
    first_field = next(iter(message_type.model_fields))

    with pytest.raises(pydantic.ValidationError, match="frozen"):
        setattr(sample, first_field, getattr(sample, first_field))


def test_nested_parts_are_frozen() -> None:
    event_filter = EventFilter(input_name="events", event_format="{event}", choices={})

    with pytest.raises(pydantic.ValidationError, match="frozen"):
        event_filter.input_name = "other"  # type: ignore[misc]
    assert Part.model_config.get("frozen") is True


@pytest.mark.parametrize(
    "message_type", [t for t in MESSAGE_TYPES if issubclass(t, Command)], ids=_ids
)
def test_commands_reject_unknown_fields(message_type: type[Message]) -> None:
    data = {**_data(SAMPLE_BY_TYPE[message_type]), "unexpected": 1}

    with pytest.raises(pydantic.ValidationError, match="unexpected"):
        message_type.model_validate(data)


@pytest.mark.parametrize(
    "message_type", [t for t in MESSAGE_TYPES if issubclass(t, Event)], ids=_ids
)
def test_events_ignore_unknown_fields(message_type: type[Message]) -> None:
    sample = SAMPLE_BY_TYPE[message_type]
    data = {**_data(sample), "added_by_a_newer_producer": {"x": 1}}

    assert message_type.model_validate(data) == sample


def test_commands_get_a_fresh_command_id_unless_given() -> None:
    data = _data(SAMPLE_BY_TYPE[StoreOAuthCredentials])
    del data["command_id"]

    one, two = StoreOAuthCredentials(**data), StoreOAuthCredentials(**data)

    assert one.command_id != two.command_id


def test_times_are_normalised_to_utc_and_naive_times_are_refused() -> None:
    data = _data(SAMPLE_BY_TYPE[WebhookEventReceived])
    paris = timezone(timedelta(hours=1))

    received = WebhookEventReceived(**{**data, "received_at": NOW.astimezone(paris)})

    assert received.received_at.tzinfo == UTC
    assert received.received_at == NOW
    with pytest.raises(pydantic.ValidationError, match="timezone"):
        WebhookEventReceived(**{**data, "received_at": datetime(2025, 1, 1)})


def test_webhook_event_header_names_are_lowercased() -> None:
    data = _data(SAMPLE_BY_TYPE[WebhookEventReceived])

    event = WebhookEventReceived(**{**data, "headers": {"X-GitHub-Delivery": "d-1"}})

    assert event.headers == {"x-github-delivery": "d-1"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("user_id", ""),
        ("user_id", "has space"),
        ("user_id", "x" * 129),
        ("provider", "GitHub"),
        ("provider", ""),
        ("event_type", ""),
    ],
)
def test_vocabulary_constraints_are_enforced(field: str, value: str) -> None:
    data = _data(SAMPLE_BY_TYPE[WebhookEventReceived])

    with pytest.raises(pydantic.ValidationError, match=field):
        WebhookEventReceived(**{**data, field: value})


def test_auto_webhook_activation_requires_credentials() -> None:
    data = _data(SAMPLE_BY_TYPE[ActivateNodeTrigger])
    data["credentials_id"] = None

    with pytest.raises(pydantic.ValidationError, match="credentials_id is required"):
        ActivateNodeTrigger(**data)
    assert ActivateNodeTrigger(**{**data, "manual": True}).credentials_id is None


def test_event_filter_matches_the_formatted_true_choices_only() -> None:
    event_filter = EventFilter(
        input_name="events",
        event_format="pull_request.{event}",
        choices={"opened": True, "closed": False, "{x}": True},
    )

    assert event_filter.matches("pull_request.opened")
    assert not event_filter.matches("pull_request.closed")
    assert not event_filter.matches("issues.opened")
    assert event_filter.matches("pull_request.{x}")


def test_event_filter_format_must_have_an_event_placeholder() -> None:
    with pytest.raises(pydantic.ValidationError, match="event_format"):
        EventFilter(input_name="events", event_format="pull_request", choices={})


@pytest.mark.parametrize("reason", ["graph_not_in_library", "graph_not_accessible", "unknown"])
def test_known_rejection_reasons_are_kept(reason: str) -> None:
    data = _data(SAMPLE_BY_TYPE[GraphExecutionRejected])

    rejected = GraphExecutionRejected(**{**data, "reason": reason})

    assert rejected.reason == reason
    assert rejected.unrecognised_reason is None


def test_an_unknown_rejection_reason_reads_as_unknown_and_is_kept_verbatim() -> None:
    data = _data(SAMPLE_BY_TYPE[GraphExecutionRejected])

    rejected = GraphExecutionRejected.model_validate({**data, "reason": "quota_exceeded"})

    assert rejected.reason == "unknown"
    assert rejected.unrecognised_reason == "quota_exceeded"
    assert decode_as(GraphExecutionRejected, encode(rejected)) == rejected


def test_dead_letter_keeps_the_original_record_byte_exact() -> None:
    dead_letter = SAMPLE_BY_TYPE[DeadLetter]
    assert isinstance(dead_letter, DeadLetter)

    assert dead_letter.original_value() == b"\xff not json"
    assert dead_letter.original_key() == b"wh-1"
    assert dead_letter.webhook_id == "wh-1"
    assert dead_letter.original_header_pairs() == [
        ("ce_type", b"integrations.webhook-event.received.v1"),
        ("empty", None),
    ]
    assert dead_letter.error_type == "ValueError"
    assert dead_letter.partition_key() == "wh-1"


def test_dead_letter_of_an_unreadable_key_has_no_webhook_id() -> None:
    dead_letter = DeadLetter.from_record(
        topic="t",
        partition=0,
        offset=0,
        key=b"\xfe\xff",
        value=None,
        headers=[],
        error=RuntimeError("x" * 5000),
        attempts=1,
        failed_at=NOW,
    )

    assert dead_letter.webhook_id is None
    assert dead_letter.partition_key() is None
    assert dead_letter.original_value() is None
    assert len(dead_letter.error) == 2048


# --- secrets stay out of messages (DESIGN §6) ----------------------------------------------

SECRET_WORDS = re.compile(r"secret|token|password|passwd|api_?key|private|credential_value")
CREDENTIALS_EVENTS = [
    CredentialsCreated,
    CredentialsUpdated,
    CredentialsRefreshed,
    CredentialsRefreshFailed,
    CredentialsDeleted,
]


def test_webhook_state_carries_its_secret_only_as_ciphertext() -> None:
    secret_fields = [name for name in WebhookState.model_fields if SECRET_WORDS.search(name)]

    assert secret_fields == ["secret_ciphertext"]
    assert WebhookState.model_fields["secret_ciphertext"].annotation is str


def test_store_oauth_credentials_carries_tokens_only_as_ciphertext() -> None:
    token_fields = {
        name
        for name in StoreOAuthCredentials.model_fields
        if SECRET_WORDS.search(name) and not name.endswith("_expires_at")
    }

    assert token_fields == {"access_token_ciphertext", "refresh_token_ciphertext"}


@pytest.mark.parametrize("message_type", CREDENTIALS_EVENTS, ids=_ids)
def test_credentials_events_have_no_field_that_could_carry_a_secret(
    message_type: type[Message],
) -> None:
    suspicious = [
        name
        for name in message_type.model_fields
        if SECRET_WORDS.search(name) or name in {"metadata", "headers", "ciphertext"}
    ]

    assert suspicious == []


def test_ciphertext_is_not_shown_in_reprs() -> None:
    for message_type in (WebhookState, StoreOAuthCredentials):
        assert "ciphertext" not in repr(SAMPLE_BY_TYPE[message_type])
