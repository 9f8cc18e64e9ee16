"""The ingress domain's small vocabulary."""

from collections.abc import Callable, Mapping
from typing import Any

Clock = Callable[[], float]
"""Unix seconds now. Injected so tests control replay windows; production passes `time.time`."""

Headers = Mapping[str, str]
"""Request headers. Names are looked up case-insensitively (`header`), so a Starlette/httpx
`Headers` and a plain dict written in any case both work."""

JsonObject = dict[str, Any]


def header(headers: Headers, name: str) -> str | None:
    wanted = name.lower()
    # Starlette/httpx headers and our own lowercased dicts answer the direct lookup.
    value = headers.get(wanted)
    if value is not None:
        return value
    for key, candidate in headers.items():
        if key.lower() == wanted:
            return candidate
    return None


def lowercase_headers(headers: Headers) -> dict[str, str]:
    """One entry per name, lowercased; the first occurrence wins, as in Starlette's `get`."""
    result: dict[str, str] = {}
    for key, value in headers.items():
        result.setdefault(key.lower(), value)
    return result
