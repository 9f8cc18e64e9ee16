"""The portable query subset: filters and sorts every adapter evaluates the same way.

A filter maps (dotted) field paths to a scalar (equality) or to an operator document:

    {"user_id": "u1", "expires_at": {"$gt": 1700000000.0}, "error": {"$exists": False}}

Operators: `$in`, `$nin`, `$ne`, `$lt`, `$lte`, `$gt`, `$gte`, `$exists`. Anything else
(`$or`, `$regex`, embedded-document or array operands, ...) raises `UnsupportedFilter`.
Semantics are MongoDB's, for scalar fields:

- Numbers compare with numbers (1 == 1.0), strings with strings (by UTF-8 bytes), booleans
  with booleans; values of different types never match (`True` does not match 1, and
  `{"$gt": 0}` does not match a string).
- `None` equals null and missing fields alike; `$ne`/`$nin` match missing fields unless
  they list `None`; `$exists` tells missing from null. Range operators reject `None`.
- Equality against an array-valued field is NOT part of the subset (MongoDB would test
  membership, the embedded store would not): query scalar fields only.

Sorting puts null and missing first (ascending), then numbers, strings, objects, arrays,
booleans, as MongoDB does. The SQL compilers below serve the embedded SQLite adapter: field
paths are validated (see `documents.check_field_path`) and spliced as JSON-path literals so
expression indexes apply; every value is a bound parameter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeAlias

from integrations.storage.documents import check_field_path, is_int64
from integrations.storage.errors import UnsupportedFilter

Scalar: TypeAlias = str | int | float | bool | None
SqlParam: TypeAlias = str | int | float | None
Operator: TypeAlias = Literal["$eq", "$in", "$nin", "$ne", "$lt", "$lte", "$gt", "$gte", "$exists"]

_SQL_COMPARISONS: Final = {"$lt": "<", "$lte": "<=", "$gt": ">", "$gte": ">="}


@dataclass(frozen=True)
class Condition:
    """One test of one field; plain equality is operator `$eq`."""

    field: str
    operator: Operator
    operand: Scalar | tuple[Scalar, ...]


def parse_filter(filter: Mapping[str, Any]) -> tuple[Condition, ...]:
    if not isinstance(filter, Mapping):
        raise UnsupportedFilter(f"a filter must be a mapping, not {type(filter).__name__}")
    return tuple(
        condition for field, value in filter.items() for condition in _parse_field(field, value)
    )


def _parse_field(field: object, value: object) -> Iterable[Condition]:
    if not isinstance(field, str) or field.startswith("$"):
        raise UnsupportedFilter(f"unsupported filter key {field!r}: only field paths")
    try:
        check_field_path(field)
    except ValueError as e:
        raise UnsupportedFilter(str(e)) from None
    if isinstance(value, Mapping):
        if not value or not all(isinstance(op, str) and op.startswith("$") for op in value):
            raise UnsupportedFilter(
                f"{field}: embedded-document equality is unsupported; use dotted paths"
            )
        for op, operand in value.items():
            yield _parse_operator(field, op, operand)
    else:
        yield Condition(field, "$eq", _scalar(field, value))


def _parse_operator(field: str, op: str, operand: object) -> Condition:
    match op:
        case "$exists":
            if not isinstance(operand, bool):
                raise UnsupportedFilter(f"{field}: $exists takes True or False")
            return Condition(field, op, operand)
        case "$in" | "$nin":
            if not isinstance(operand, (list, tuple)):
                raise UnsupportedFilter(f"{field}: {op} takes a list")
            return Condition(field, op, tuple(_scalar(field, item) for item in operand))
        case "$ne":
            return Condition(field, op, _scalar(field, operand))
        case "$lt" | "$lte" | "$gt" | "$gte":
            if operand is None:
                raise UnsupportedFilter(f"{field}: {op} does not take None")
            return Condition(field, op, _scalar(field, operand))
        case _:
            raise UnsupportedFilter(f"{field}: unsupported operator {op!r}")


def _scalar(field: str, value: object) -> Scalar:
    if value is None or isinstance(value, (str, bool)):
        return value
    if isinstance(value, int):
        if is_int64(value):
            return value
    elif isinstance(value, float):
        if math.isfinite(value):
            return value
    elif isinstance(value, (list, tuple)):
        raise UnsupportedFilter(f"{field}: array operands are unsupported")
    raise UnsupportedFilter(f"{field}: unsupported operand {value!r}")


def check_sort(sort: Sequence[tuple[str, int]]) -> None:
    fields = []
    for item in sort:
        field, direction = item
        try:
            fields.append(check_field_path(field))
        except ValueError as e:
            raise UnsupportedFilter(str(e)) from None
        if type(direction) is not int or direction not in (1, -1):
            raise UnsupportedFilter(f"sort direction of {field!r} must be 1 or -1")
    if len(set(fields)) != len(fields):
        raise UnsupportedFilter("a sort names a field twice")


def check_page(limit: int | None, skip: int) -> None:
    if limit is not None and (type(limit) is not int or limit < 0):
        raise ValueError(f"limit must be None or a non-negative int, not {limit!r}")
    if type(skip) is not int or skip < 0:
        raise ValueError(f"skip must be a non-negative int, not {skip!r}")


# --- SQLite ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SqlField:
    """How SQL sees one field of the `doc` JSON column: its JSON type name (NULL when
    missing) and its value (NULL for null or missing; booleans as 0/1)."""

    type: str
    value: str


def sql_field(path: str) -> SqlField:
    if path == "_id":
        # The primary-key column mirrors doc._id (always a string): lookups use the key.
        return SqlField(type="'text'", value="_id")
    json_path = "'$." + check_field_path(path) + "'"
    return SqlField(type=f"json_type(doc, {json_path})", value=f"json_extract(doc, {json_path})")


def compile_where(conditions: Iterable[Condition]) -> tuple[str, list[SqlParam]]:
    """An SQL boolean expression (`1` for no conditions) and its parameters."""
    parts: list[str] = []
    params: list[SqlParam] = []
    for condition in conditions:
        sql, condition_params = _compile_condition(condition)
        parts.append(sql)
        params.extend(condition_params)
    return (" AND ".join(parts) if parts else "1"), params


def compile_order_by(sort: Sequence[tuple[str, int]]) -> str:
    """An ORDER BY list (empty for no sort) following MongoDB's order of types."""
    terms = []
    for path, direction in sort:
        field = sql_field(path)
        order = "ASC" if direction == 1 else "DESC"
        terms.append(f"{_type_rank(field)} {order}, {field.value} {order}")
    return ", ".join(terms)


def _type_rank(field: SqlField) -> str:
    return (
        f"CASE {field.type} WHEN 'integer' THEN 1 WHEN 'real' THEN 1 WHEN 'text' THEN 2"
        " WHEN 'object' THEN 3 WHEN 'array' THEN 4 WHEN 'true' THEN 5 WHEN 'false' THEN 5"
        " ELSE 0 END"
    )


def _compile_condition(condition: Condition) -> tuple[str, list[SqlParam]]:
    field = sql_field(condition.field)
    operand = condition.operand
    values = operand if isinstance(operand, tuple) else (operand,)
    match condition.operator:
        case "$eq" | "$in":
            return _equals_any(field, values)
        case "$ne" | "$nin":
            return _negate(*_equals_any(field, values))
        case "$exists":
            return f"{field.type} IS {'NOT NULL' if operand else 'NULL'}", []
        case _:
            return _compare(field, _SQL_COMPARISONS[condition.operator], values[0])


def _equals_any(field: SqlField, values: Sequence[Scalar]) -> tuple[str, list[SqlParam]]:
    numbers = [v for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
    strings = [v for v in values if isinstance(v, str)]
    alternatives: list[str] = []
    if any(v is None for v in values):
        alternatives.append(f"{field.value} IS NULL")
    if any(v is True for v in values):
        alternatives.append(f"{field.type} = 'true'")
    if any(v is False for v in values):
        alternatives.append(f"{field.type} = 'false'")
    if numbers:
        alternatives.append(f"({field.type} IN ('integer', 'real') AND {_in(field, numbers)})")
    if strings:
        alternatives.append(f"({field.type} = 'text' AND {_in(field, strings)})")
    if not alternatives:
        return "0", []
    sql = alternatives[0] if len(alternatives) == 1 else "(" + " OR ".join(alternatives) + ")"
    return sql, [*numbers, *strings]


def _in(field: SqlField, values: Sequence[SqlParam]) -> str:
    if len(values) == 1:
        return f"{field.value} = ?"
    return f"{field.value} IN ({', '.join('?' * len(values))})"


def _negate(sql: str, params: list[SqlParam]) -> tuple[str, list[SqlParam]]:
    # A test of a missing field yields NULL; "not equal" must still match it.
    return f"NOT coalesce({sql}, 0)", params


def _compare(field: SqlField, sql_op: str, value: Scalar) -> tuple[str, list[SqlParam]]:
    param: SqlParam
    if isinstance(value, bool):
        kinds, param = "('true', 'false')", int(value)
    elif isinstance(value, (int, float)):
        kinds, param = "('integer', 'real')", value
    elif isinstance(value, str):
        kinds, param = "('text')", value
    else:  # pragma: no cover - parse_filter lets no other operand through
        raise UnsupportedFilter(f"cannot compare with {value!r}")
    return f"({field.type} IN {kinds} AND {field.value} {sql_op} ?)", [param]
