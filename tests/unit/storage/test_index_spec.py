"""`IndexSpec` refuses what no adapter could create alike."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.storage import IndexSpec

pytestmark = pytest.mark.unit


def test_a_spec_names_its_keys_in_order() -> None:
    spec = IndexSpec("by_user", (("user_id", 1), ("meta.created_at", -1)), unique=True)

    assert spec.keys == (("user_id", 1), ("meta.created_at", -1))


@pytest.mark.parametrize(
    ("name", "keys", "ttl"),
    [
        ("", (("a", 1),), None),
        ("a.b", (("a", 1),), None),
        ("by_a", (), None),
        ("by_a", (("a", 0),), None),
        ("by_a", (("a b", 1),), None),
        ("by_a", (("$a", 1),), None),
        ("by_a", (("a", 1), ("a", -1)), None),
        ("ttl", (("a", 1), ("b", 1)), 60),
        ("ttl", (("a", 1),), -1),
    ],
    ids=repr,
)
def test_invalid_specs_are_refused(name: str, keys: Any, ttl: int | None) -> None:
    with pytest.raises(ValueError):
        IndexSpec(name, keys, expire_after_seconds=ttl)
