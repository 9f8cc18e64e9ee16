"""Scopes as the login route takes them and as the callback compares them (SPEC RT-1, RT-2)."""

from collections.abc import Iterable


def parse_requested(raw: str) -> list[str]:
    """`?scopes=a,b`: comma-separated, blanks ignored, order kept, no duplicates."""
    return list(dict.fromkeys(part.strip() for part in raw.split(",") if part.strip()))


def missing_scopes(requested: Iterable[str], granted: Iterable[str]) -> list[str]:
    """What was asked for but not granted (a warning, not an error: SPEC RT-2)."""
    granted_set = set(granted)
    return [scope for scope in requested if scope not in granted_set]
