"""What may go into a store, checked the same way for every adapter.

Rules stricter than MongoDB's keep the adapters interchangeable: plain JSON values only
(no tuples, datetimes or NaN), integers within 64 bits, no `$` prefix or `.` in keys (a
dotted key could not be queried), field paths and names from a small ASCII alphabet
(SQLite gets them spliced into SQL text, so they must never carry anything else).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Final

from integrations.storage.errors import InvalidDocument

INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,62}")
_SEGMENT = r"[A-Za-z_][A-Za-z0-9_]*"
_FIELD_PATH = re.compile(rf"{_SEGMENT}(?:\.{_SEGMENT})*")


def check_name(name: str, *, what: str) -> str:
    """Database, collection and index names: a letter or `_`, then letters, digits, `_-`."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"invalid {what}: {name!r}")
    return name


def check_field_path(path: str) -> str:
    """A field or dotted path of fields, each a letter or `_` then letters, digits, `_`."""
    if not isinstance(path, str) or not _FIELD_PATH.fullmatch(path):
        raise ValueError(f"invalid field path: {path!r}")
    return path


def is_int64(value: object) -> bool:
    return (
        isinstance(value, int) and not isinstance(value, bool) and (INT64_MIN <= value <= INT64_MAX)
    )


def check_expected_version(version: int | None) -> None:
    if version is not None and not (is_int64(version) and 0 <= version < INT64_MAX):
        raise ValueError(f"expected_version must be a non-negative int, not {version!r}")


def check_document(doc: Mapping[str, Any]) -> None:
    if not isinstance(doc, Mapping):
        raise InvalidDocument(f"a document must be a mapping, not {type(doc).__name__}")
    _id = doc.get("_id")
    if not isinstance(_id, str):
        raise InvalidDocument(f"a document needs a string _id, not {_id!r}")
    _check_object(doc, "")
    version = doc.get("version")
    if version is not None and not (is_int64(version) and version >= 0):
        raise InvalidDocument(f"version must be a non-negative integer, not {version!r}")


def _check_object(obj: Mapping[Any, Any], where: str) -> None:
    for key, value in obj.items():
        if not isinstance(key, str) or key.startswith("$") or "." in key or "\0" in key:
            raise InvalidDocument(
                f"key {key!r} in {where or 'the document'}: keys are strings without"
                " a '$' prefix, '.' or NUL"
            )
        _check_value(value, f"{where}.{key}" if where else key)


def _check_value(value: object, where: str) -> None:
    if value is None or isinstance(value, (str, bool)):
        return
    if isinstance(value, int):
        if not is_int64(value):
            raise InvalidDocument(f"{where}: integer {value} does not fit in 64 bits")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidDocument(f"{where}: {value} is not a JSON number")
    elif type(value) is list:
        for i, item in enumerate(value):
            _check_value(item, f"{where}.{i}")
    elif type(value) is dict:
        _check_object(value, where)
    else:
        raise InvalidDocument(f"{where}: {type(value).__name__} is not a JSON value")
