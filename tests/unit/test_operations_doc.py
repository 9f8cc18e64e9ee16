"""docs/operations.md's settings tables are generated; they must match the settings classes."""

from pathlib import Path

import pytest

from integrations import settings_reference
from integrations.catalog import SERVICES

pytestmark = pytest.mark.unit

OPERATIONS = Path(__file__).resolve().parents[2] / "docs" / "operations.md"


def test_the_settings_reference_in_the_runbook_matches_the_code() -> None:
    document = OPERATIONS.read_text(encoding="utf-8")
    assert settings_reference.splice(document, settings_reference.render()) == document, (
        "docs/operations.md is stale: python -m integrations.settings_reference docs/operations.md"
    )


def test_every_service_setting_is_in_the_reference() -> None:
    reference = settings_reference.render()
    for service in SERVICES.values():
        for name in service.settings_class.model_fields:
            assert f"`{name.upper()}`" in reference, name


def test_a_document_without_markers_is_refused() -> None:
    with pytest.raises(ValueError, match="markers"):
        settings_reference.splice("# no table here", "x")
