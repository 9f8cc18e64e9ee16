"""SPEC RT-13: provider names for the HTTP layer and for client code generation.

Pure functions returning response models; the routes only return them. The models are the
original's shapes so generated clients keep their names (`PROVIDER_NAMES`, ...).
"""

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from integrations.providers.provider import constant_name
from integrations.providers.registry import ProviderRegistry, registry_or_default
from integrations.providers.system_credentials import system_credentials

ENUM_EXAMPLE_FALLBACK = "openai"
"""The original's answer when no provider is registered; the response needs some name."""


class ProviderNamesResponse(BaseModel):
    providers: list[str] = Field(description="All available provider names, sorted.")


class ProviderConstants(BaseModel):
    PROVIDER_NAMES: dict[str, str] = Field(
        description="All provider names as a constant mapping (UPPER_SNAKE → name).",
        examples=[{"OPENAI": "openai", "GITHUB": "github", "OPEN_ROUTER": "open_router"}],
    )


class ProviderEnumResponse(BaseModel):
    provider: str = Field(description="A provider name from the complete list.")


def provider_names(registry: ProviderRegistry | None = None) -> list[str]:
    return registry_or_default(registry).names()


def system_provider_names(
    registry: ProviderRegistry | None = None, env: Mapping[str, str] | None = None
) -> list[str]:
    """Providers usable with platform credits: every one that declares a system credential
    (as the original listed them), or, given an environment, those configured in it."""
    registry = registry_or_default(registry)
    if env is None:
        names = {spec.provider for spec in registry.default_credentials()}
    else:
        names = {credential.provider for credential in system_credentials(env, registry)}
    return sorted(names)


def provider_names_response(registry: ProviderRegistry | None = None) -> ProviderNamesResponse:
    return ProviderNamesResponse(providers=provider_names(registry))


def provider_constants(registry: ProviderRegistry | None = None) -> ProviderConstants:
    return ProviderConstants(
        PROVIDER_NAMES={constant_name(name): name for name in provider_names(registry)}
    )


def provider_enum_example(registry: ProviderRegistry | None = None) -> ProviderEnumResponse:
    names = provider_names(registry)
    return ProviderEnumResponse(provider=names[0] if names else ENUM_EXAMPLE_FALLBACK)


def provider_enum_model(registry: ProviderRegistry | None = None) -> type[ProviderEnumResponse]:
    """`ProviderEnumResponse` narrowed to the registry's names, for a route's
    `response_model`: OpenAPI then carries the names as an enum, which code generators turn
    into a client-side enum (the purpose of `/providers/enum-example`)."""
    names = tuple(provider_names(registry)) or (ENUM_EXAMPLE_FALLBACK,)
    names_type: Any = Literal.__getitem__(names)  # built at run time: the names are data
    return create_model(
        "ProviderEnumResponse",
        __base__=ProviderEnumResponse,
        provider=(names_type, Field(description="A provider name from the complete list.")),
    )
