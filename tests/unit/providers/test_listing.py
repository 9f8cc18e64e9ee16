import json

import pytest
from pydantic import ValidationError

from integrations.providers import (
    Provider,
    ProviderConstants,
    ProviderNamesResponse,
    ProviderRegistry,
    SystemCredentialSpec,
    default_registry,
    provider_constants,
    provider_enum_example,
    provider_enum_model,
    provider_names,
    provider_names_response,
    system_provider_names,
)

pytestmark = pytest.mark.unit


def small_registry() -> ProviderRegistry:
    return ProviderRegistry(
        [
            Provider(name="zeta", title="Zeta"),
            Provider(
                name="open-router",
                title="Open Router",
                api_key_env="OPEN_ROUTER_KEY",
                system_credential=SystemCredentialSpec(),
            ),
            Provider(
                name="alpha", title="Alpha", system_credential=SystemCredentialSpec(always=True)
            ),
        ]
    )


def test_provider_names_are_all_registered_names_sorted() -> None:
    """SPEC RT-13: `GET /providers`."""
    assert provider_names(small_registry()) == ["alpha", "open-router", "zeta"]
    assert provider_names() == default_registry().names()


def test_system_provider_names_are_those_with_a_system_credential() -> None:
    """SPEC RT-13: `GET /providers/system`, optionally narrowed to what is configured."""
    registry = small_registry()

    assert system_provider_names(registry) == ["alpha", "open-router"]
    assert system_provider_names(registry, env={}) == ["alpha"]
    assert system_provider_names(registry, env={"OPEN_ROUTER_KEY": "k"}) == ["alpha", "open-router"]
    assert "openai" in system_provider_names()
    assert "github" not in system_provider_names()


def test_names_form_is_json_ready() -> None:
    """SPEC RT-13: `GET /providers/names`."""
    response = provider_names_response(small_registry())

    assert isinstance(response, ProviderNamesResponse)
    assert response.model_dump(mode="json") == {"providers": ["alpha", "open-router", "zeta"]}


def test_constants_form_maps_upper_snake_constants_to_names() -> None:
    """SPEC RT-13: `GET /providers/constants`, for client code generation."""
    response = provider_constants(small_registry())

    assert isinstance(response, ProviderConstants)
    assert json.loads(response.model_dump_json()) == {
        "PROVIDER_NAMES": {"ALPHA": "alpha", "OPEN_ROUTER": "open-router", "ZETA": "zeta"}
    }
    assert provider_constants().PROVIDER_NAMES["GITHUB"] == "github"


def test_enum_example_names_a_registered_provider() -> None:
    """SPEC RT-13: `GET /providers/enum-example`."""
    assert provider_enum_example(small_registry()).provider == "alpha"
    assert provider_enum_example(ProviderRegistry()).provider == "openai"


def test_enum_model_puts_every_name_into_the_schema_and_accepts_only_them() -> None:
    """SPEC RT-13: the enum reaches OpenAPI, so generated clients get it."""
    model = provider_enum_model(small_registry())

    schema = model.model_json_schema()
    assert schema["properties"]["provider"]["enum"] == ["alpha", "open-router", "zeta"]
    assert model(provider="zeta").model_dump() == {"provider": "zeta"}
    with pytest.raises(ValidationError):
        model(provider="github")
