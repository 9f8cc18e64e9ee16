"""SPEC RT-13: which providers exist. Public: provider names are not secret, and client
code generators read them without a user token."""

import os

from fastapi import APIRouter

from integrations.providers import (
    ProviderConstants,
    ProviderEnumResponse,
    ProviderNamesResponse,
    provider_constants,
    provider_enum_example,
    provider_enum_model,
    provider_names,
    provider_names_response,
    system_provider_names,
)
from integrations.web.app import API_PREFIX

router = APIRouter(prefix=API_PREFIX, tags=["providers"])


@router.get("/providers", summary="All provider names")
async def list_providers() -> list[str]:
    return provider_names()


@router.get("/providers/system", summary="Providers with a system credential configured here")
async def list_system_providers() -> list[str]:
    return system_provider_names(env=os.environ)


@router.get("/providers/names", summary="Provider names, structured for client generation")
async def get_provider_names() -> ProviderNamesResponse:
    return provider_names_response()


@router.get("/providers/constants", summary="Provider names as constants")
async def get_provider_constants() -> ProviderConstants:
    return provider_constants()


@router.get(
    "/providers/enum-example",
    summary="A provider name typed as an enum of all names",
    response_model=provider_enum_model(),
)
async def get_provider_enum_example() -> ProviderEnumResponse:
    return provider_enum_example()
