"""The portable filter subset: what it accepts, and the SQL it compiles to."""

from __future__ import annotations

import json
import math
import operator
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.storage import UnsupportedFilter
from integrations.storage.filters import (
    Condition,
    Scalar,
    check_page,
    check_sort,
    compile_order_by,
    compile_where,
    parse_filter,
)

pytestmark = pytest.mark.unit


def test_plain_values_are_equality_conditions() -> None:
    assert parse_filter({"user_id": "u1", "meta.count": 2, "gone": None}) == (
        Condition("user_id", "$eq", "u1"),
        Condition("meta.count", "$eq", 2),
        Condition("gone", "$eq", None),
    )


def test_operator_documents_become_one_condition_per_operator() -> None:
    assert parse_filter({"at": {"$gte": 1.5, "$lt": 9}, "kind": {"$in": ["a", "b"]}}) == (
        Condition("at", "$gte", 1.5),
        Condition("at", "$lt", 9),
        Condition("kind", "$in", ("a", "b")),
    )


@pytest.mark.parametrize(
    "filter",
    [
        {"$or": []},
        {"$where": "1"},
        {"a": {"$regex": "x"}},
        {"a": {"$eq": 1}},
        {"a": {"$elemMatch": {}}},
        {"a": {"b": 1}},
        {"a": {"$gt": 1, "b": 1}},
        {"a": {}},
        {"a": [1]},
        {"a": (1,)},
        {"a": {"$in": {"x": 1}}},
        {"a": {"$nin": None}},
        {"a": {"$lt": None}},
        {"a": {"$exists": "yes"}},
        {"a": math.inf},
        {"a": -(2**63) - 1},
        {"a": b"bytes"},
        {"": 1},
        {".a": 1},
        {"a.": 1},
        {"a.1": 1},
        {"a b": 1},
        {"a\n": 1},
        {"é": 1},
        {"a'": 1},
        {3: 1},
    ],
    ids=repr,
)
def test_filters_outside_the_subset_are_refused(filter: Any) -> None:
    with pytest.raises(UnsupportedFilter):
        parse_filter(filter)


def test_an_empty_filter_compiles_to_true() -> None:
    assert compile_where(parse_filter({})) == ("1", [])


def test_field_paths_are_spliced_as_json_paths_and_values_are_bound() -> None:
    sql, params = compile_where(parse_filter({"meta.kind": "needle", "n": {"$gt": 2}}))

    assert "'$.meta.kind'" in sql
    assert "'$.n'" in sql
    assert "needle" not in sql
    assert params == ["needle", 2]


def test_id_is_looked_up_through_the_primary_key() -> None:
    sql, params = compile_where(parse_filter({"_id": "a"}))

    assert "_id = ?" in sql
    assert "json_extract" not in sql
    assert params == ["a"]


def test_booleans_are_matched_by_json_type_not_by_their_integer_value() -> None:
    sql, params = compile_where(parse_filter({"active": True}))

    assert sql == "json_type(doc, '$.active') = 'true'"
    assert params == []


@given(st.text())
def test_values_never_change_the_sql_text(value: str) -> None:
    reference, _ = compile_where(parse_filter({"a": value, "b": {"$in": [value, "x"]}}))
    sql, params = compile_where(parse_filter({"a": "v", "b": {"$in": ["v", "x"]}}))

    assert sql == reference
    assert len(params) == 3


def test_sorts_order_by_type_then_value() -> None:
    order_by = compile_order_by([("at", -1), ("_id", 1)])

    assert order_by.startswith("CASE json_type(doc, '$.at')")
    assert "json_extract(doc, '$.at') DESC" in order_by
    assert order_by.endswith("_id ASC")


@pytest.mark.parametrize(
    "sort",
    [[("a", 0)], [("a", True)], [("a", "asc")], [("a b", 1)], [("a", 1), ("a", -1)]],
    ids=repr,
)
def test_invalid_sorts_are_refused(sort: Any) -> None:
    with pytest.raises(UnsupportedFilter):
        check_sort(sort)


@pytest.mark.parametrize(("limit", "skip"), [(-1, 0), (0, -1), (1.5, 0), (None, True)])
def test_invalid_pages_are_refused(limit: Any, skip: Any) -> None:
    with pytest.raises(ValueError):
        check_page(limit, skip)


# --- compiled SQL against a reference evaluation of MongoDB's rules ----------------------

FIELDS = ("a", "b.c")
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from([0.0, 1.0, 1.5, -2.5]),
    st.sampled_from(["", "0", "1", "a", "B", "é"]),
)
values = st.one_of(scalars, st.just([1]), st.just({"x": 1}))


@st.composite
def documents(draw: st.DrawFn) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    if draw(st.booleans()):
        doc["a"] = draw(values)
    if draw(st.booleans()):
        doc["b"] = draw(st.one_of(scalars, st.builds(dict, c=values), st.just({})))
    return doc


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    field = draw(st.sampled_from(FIELDS))
    op = draw(st.sampled_from(["=", "$ne", "$in", "$nin", "$lt", "$lte", "$gt", "$gte", "$exists"]))
    if op == "=":
        return {field: draw(scalars)}
    if op in ("$in", "$nin"):
        return {field: {op: draw(st.lists(scalars, max_size=3))}}
    if op == "$exists":
        return {field: {op: draw(st.booleans())}}
    if op == "$ne":
        return {field: {op: draw(scalars)}}
    return {field: {op: draw(scalars.filter(lambda v: v is not None))}}


MISSING = object()


def lookup(doc: dict[str, Any], path: str) -> Any:
    value: Any = doc
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return MISSING
        value = value[part]
    return value


def kind(value: Any) -> str:
    if value is None or value is MISSING:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


def equals(value: Any, operand: Scalar) -> bool:
    return kind(value) == kind(operand) and (operand is None or value == operand)


def matches(doc: dict[str, Any], condition: Condition) -> bool:
    value = lookup(doc, condition.field)
    operand = condition.operand
    match condition.operator:
        case "$eq":
            return equals(value, operand)  # type: ignore[arg-type]
        case "$ne":
            return not equals(value, operand)  # type: ignore[arg-type]
        case "$in":
            return any(equals(value, item) for item in operand)  # type: ignore[union-attr]
        case "$nin":
            return not any(equals(value, item) for item in operand)  # type: ignore[union-attr]
        case "$exists":
            return (value is not MISSING) == operand
        case op:
            return kind(value) == kind(operand) and bool(COMPARISONS[op](value, operand))


COMPARISONS: dict[str, Callable[[Any, Any], Any]] = {
    "$lt": operator.lt,
    "$lte": operator.le,
    "$gt": operator.gt,
    "$gte": operator.ge,
}


@pytest.fixture(scope="module")
def connection() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    yield connection
    connection.close()


@settings(max_examples=300, deadline=None)
@given(docs=st.lists(documents(), max_size=6), filter_parts=st.lists(conditions(), max_size=2))
def test_compiled_filters_agree_with_mongodb_rules_on_scalar_fields(
    connection: sqlite3.Connection, docs: list[dict[str, Any]], filter_parts: list[dict[str, Any]]
) -> None:
    filter: dict[str, Any] = {}
    for part in filter_parts:
        filter.update(part)
    parsed = parse_filter(filter)
    where, params = compile_where(parsed)
    # Equality and ranges against arrays are outside the subset: MongoDB tests membership.
    in_subset = [d for d in docs if not any(isinstance(lookup(d, f), list) for f in FIELDS)]

    rows = [(str(i), json.dumps({"_id": str(i), **d})) for i, d in enumerate(in_subset)]
    found = {
        _id
        for (_id,) in connection.execute(
            f"WITH t(_id, doc) AS (VALUES {', '.join(['(?, ?)'] * len(rows)) or '(NULL, NULL)'})"
            f" SELECT _id FROM t WHERE _id IS NOT NULL AND {where}",
            [*(value for row in rows for value in row), *params],
        )
    }

    expected = {str(i) for i, d in enumerate(in_subset) if all(matches(d, c) for c in parsed)}
    assert found == expected
