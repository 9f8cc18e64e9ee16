"""The embedded store: documents as JSON text in SQLite, one table per collection.

One connection per `SqliteDatabase`, used by one worker thread, so operations run one at a
time in order and each statement is its own transaction. Several `SqliteDatabase`s (or
processes) may share a file: WAL lets readers run beside the one writer, and writers wait
up to `busy_timeout` for each other. Tables are named `<database>.<collection>`.
"""

# SQL text here is built from names and field paths that `check_name`/`check_field_path`
# restricted to [A-Za-z0-9_.-]; every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Final, TypeVar

from integrations.storage.documents import check_document, check_expected_version, check_name
from integrations.storage.errors import (
    DuplicateKey,
    InvalidDocument,
    StorageError,
    StorageUnavailable,
)
from integrations.storage.filters import (
    Condition,
    SqlField,
    SqlParam,
    check_page,
    check_sort,
    compile_order_by,
    compile_where,
    parse_filter,
    sql_field,
)
from integrations.storage.ports import (
    FIRST_VERSION,
    VERSION_FIELD,
    Document,
    Filter,
    IndexSpec,
    Sort,
)

T = TypeVar("T")

_UNAVAILABLE: Final = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_CANTOPEN",
    "SQLITE_IOERR",
    "SQLITE_FULL",
)
_UNIQUE_INDEX_MESSAGE: Final = re.compile(r"index '([^']*)'")


class SqliteDatabase:
    def __init__(self, path: Path | None, *, name: str, busy_timeout: float = 5.0) -> None:
        """`path=None` keeps everything in memory (tests); else the file and its parent
        directories are created on first use."""
        self._path = path
        self._name = check_name(name, what="database name")
        self._busy_timeout = busy_timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"sqlite-{name}")
        self._connection: sqlite3.Connection | None = None  # only touched by the worker
        self._tables: set[str] = set()  # only touched by the worker
        self._closed = False

    def collection(self, name: str) -> SqliteCollection:
        check_name(name, what="collection name")
        return SqliteCollection(self, f"{self._name}.{name}")

    async def ping(self) -> None:
        await self.run(lambda connection: connection.execute("SELECT 1").fetchone())

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, self._disconnect)
        finally:
            self._executor.shutdown(wait=False)

    async def run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Run `operation` on the worker thread, mapping SQLite's errors to the port's."""
        if self._closed:
            raise StorageError("the database is closed")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, self._call, operation)
        except sqlite3.Error as e:
            raise _translate(e) from e
        except UnicodeEncodeError as e:
            raise InvalidDocument(f"strings must be valid Unicode: {e}") from e

    def ensure_table(self, connection: sqlite3.Connection, table: str) -> None:
        if table not in self._tables:
            connection.execute(
                f"CREATE TABLE IF NOT EXISTS {_quote(table)} ("
                "_id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL CHECK (json_valid(doc)))"
            )
            self._tables.add(table)

    def _call(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        if self._connection is None:
            self._connection = self._connect()
        return operation(self._connection)

    def _connect(self) -> sqlite3.Connection:
        if self._path is not None:
            try:
                self._path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StorageUnavailable(f"cannot create {self._path.parent}: {e}") from e
        target = ":memory:" if self._path is None else str(self._path)
        # isolation_level=None: no implicit transactions, every statement commits by itself.
        connection = sqlite3.connect(target, timeout=self._busy_timeout, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("SELECT json_type('{}')")
        except sqlite3.Error:
            connection.close()
            raise
        return connection

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


class SqliteCollection:
    def __init__(self, database: SqliteDatabase, table: str) -> None:
        self._database = database
        self._table = table

    async def insert(self, doc: Mapping[str, Any]) -> None:
        check_document(doc)
        stored = {**doc}
        stored.setdefault(VERSION_FIELD, FIRST_VERSION)
        await self._execute(
            f"INSERT INTO {_quote(self._table)} (_id, doc) VALUES (?, ?)",
            [stored["_id"], _dumps(stored)],
        )

    async def get(self, _id: str) -> Document | None:
        where, params = _where_version(_id, None)  # so a non-string _id matches nothing
        return await self._select_one(
            f"SELECT doc FROM {_quote(self._table)} WHERE {where}", params
        )

    async def find_one(self, filter: Filter) -> Document | None:
        found = await self.find(filter, limit=1)
        return found[0] if found else None

    async def find(
        self,
        filter: Filter,
        *,
        sort: Sort = (),
        limit: int | None = None,
        skip: int = 0,
    ) -> list[Document]:
        where, params = compile_where(parse_filter(filter))
        check_sort(sort)
        check_page(limit, skip)
        if limit == 0:
            return []
        sql = f"SELECT doc FROM {_quote(self._table)} WHERE {where}"
        if sort:
            sql += f" ORDER BY {compile_order_by(sort)}"
        if limit is not None or skip:
            sql += " LIMIT ? OFFSET ?"
            params = [*params, -1 if limit is None else limit, skip]

        def select(connection: sqlite3.Connection) -> list[Document]:
            self._database.ensure_table(connection, self._table)
            return [_loads(text) for (text,) in connection.execute(sql, params)]

        return await self._database.run(select)

    async def count(self, filter: Filter) -> int:
        where, params = compile_where(parse_filter(filter))

        def count(connection: sqlite3.Connection) -> int:
            self._database.ensure_table(connection, self._table)
            sql = f"SELECT count(*) FROM {_quote(self._table)} WHERE {where}"
            (n,) = connection.execute(sql, params).fetchone()
            return int(n)

        return await self._database.run(count)

    async def replace(self, doc: Mapping[str, Any], *, expected_version: int) -> bool:
        check_document(doc)
        check_expected_version(expected_version)
        stored = {**doc, VERSION_FIELD: expected_version + 1}
        where, params = _where_version(stored["_id"], expected_version)
        changed = await self._execute(
            f"UPDATE {_quote(self._table)} SET doc = ? WHERE {where}", [_dumps(stored), *params]
        )
        return changed == 1

    async def delete(self, _id: str, *, expected_version: int | None = None) -> bool:
        check_expected_version(expected_version)
        where, params = _where_version(_id, expected_version)
        return await self._execute(f"DELETE FROM {_quote(self._table)} WHERE {where}", params) == 1

    async def delete_many(self, filter: Filter) -> int:
        where, params = compile_where(parse_filter(filter))
        return await self._execute(f"DELETE FROM {_quote(self._table)} WHERE {where}", params)

    async def ensure_indexes(self, specs: Sequence[IndexSpec]) -> None:
        statements = [statement for spec in specs for statement in self._index_statements(spec)]

        def create(connection: sqlite3.Connection) -> None:
            self._database.ensure_table(connection, self._table)
            for spec, index, sql in statements:
                _create_index(connection, spec, index, sql)

        await self._database.run(create)

    def _index_statements(self, spec: IndexSpec) -> Iterable[tuple[IndexSpec, str, str]]:
        """The SQLite indexes behind one spec (TTL is ignored: nothing here expires).

        A unique spec becomes a unique index over (type class, value) per key, with null and
        missing both mapped to one non-NULL value, since SQLite's NULLs never collide while
        MongoDB counts a missing field as null; a plain index beside it serves lookups.
        """
        table = _quote(self._table)
        fields = [(sql_field(path), "ASC" if way == 1 else "DESC") for path, way in spec.keys]
        plain = ", ".join(f"{field.value} {order}" for field, order in fields)
        if spec.unique:
            typed = ", ".join(
                f"{_type_class(field)} {order}, coalesce({field.value}, 0) {order}"
                for field, order in fields
            )
            index = f"{self._table}.{spec.name}"
            yield spec, index, f"CREATE UNIQUE INDEX {_quote(index)} ON {table} ({typed})"
            index = f"{self._table}.{spec.name}.lookup"
            yield spec, index, f"CREATE INDEX {_quote(index)} ON {table} ({plain})"
        else:
            index = f"{self._table}.{spec.name}"
            yield spec, index, f"CREATE INDEX {_quote(index)} ON {table} ({plain})"

    async def _select_one(self, sql: str, params: list[SqlParam]) -> Document | None:
        def select(connection: sqlite3.Connection) -> Document | None:
            self._database.ensure_table(connection, self._table)
            row = connection.execute(sql, params).fetchone()
            return None if row is None else _loads(row[0])

        return await self._database.run(select)

    async def _execute(self, sql: str, params: list[SqlParam]) -> int:
        def execute(connection: sqlite3.Connection) -> int:
            self._database.ensure_table(connection, self._table)
            return connection.execute(sql, params).rowcount

        return await self._database.run(execute)


def _where_version(_id: str, expected_version: int | None) -> tuple[str, list[SqlParam]]:
    conditions = [Condition("_id", "$eq", _id)]
    if expected_version is not None:
        conditions.append(Condition(VERSION_FIELD, "$eq", expected_version))
    return compile_where(conditions)


def _create_index(connection: sqlite3.Connection, spec: IndexSpec, index: str, sql: str) -> None:
    def existing() -> str | None:
        row = connection.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?", [index]
        ).fetchone()
        return None if row is None else str(row[0])

    current = existing()
    if current is None:
        try:
            connection.execute(sql)
            return
        except sqlite3.OperationalError:
            current = existing()  # another connection created it meanwhile
            if current is None:
                raise
    if current != sql:
        raise StorageError(f"index {spec.name!r} exists with other keys or options")


def _type_class(field: SqlField) -> str:
    """Types that MongoDB compares as equal share a class: integer/real, true/false,
    null/missing."""
    return (
        f"CASE {field.type} WHEN 'real' THEN 'integer' WHEN 'true' THEN 'false'"
        f" ELSE coalesce({field.type}, 'null') END"
    )


def _quote(identifier: str) -> str:
    # Identifiers are built from names that check_name restricted to [A-Za-z0-9_-].
    return f'"{identifier}"'


def _dumps(doc: Document) -> str:
    return json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _loads(text: str) -> Document:
    doc: Document = json.loads(text)
    return doc


def _translate(error: sqlite3.Error) -> StorageError:
    name = getattr(error, "sqlite_errorname", "")
    if name == "SQLITE_CONSTRAINT_PRIMARYKEY":
        return DuplicateKey("duplicate key in index _id_", index="_id_")
    if name == "SQLITE_CONSTRAINT_UNIQUE":
        match = _UNIQUE_INDEX_MESSAGE.search(str(error))
        index = match.group(1).rpartition(".")[2] if match else None
        return DuplicateKey(f"duplicate key in index {index or '(unnamed)'}", index=index)
    if name.startswith(_UNAVAILABLE):
        return StorageUnavailable(f"SQLite: {error}")
    return StorageError(f"SQLite: {error}")
