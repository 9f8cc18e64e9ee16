"""The storage port: a database of JSON document collections.

A service's repositories wrap a `DocumentCollection` and map domain objects to documents;
`open_database` picks the adapter (MongoDB in production, SQLite embedded by default).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, Protocol, TypeAlias

from integrations.storage.documents import check_field_path, check_name

Document: TypeAlias = dict[str, Any]
"""JSON values only (str, int, float, bool, None, list, dict) and a string `_id`."""

Filter: TypeAlias = Mapping[str, Any]
"""The portable Mongo subset described in `integrations.storage.filters`."""

SortDirection: TypeAlias = Literal[1, -1]
ASCENDING: Final = 1
DESCENDING: Final = -1
Sort: TypeAlias = Sequence[tuple[str, SortDirection]]

VERSION_FIELD: Final = "version"
FIRST_VERSION: Final = 1


@dataclass(frozen=True)
class IndexSpec:
    """An index over (dotted) fields; `expire_after_seconds` makes it a TTL index.

    TTL is a clean-up aid only: MongoDB deletes expired documents eventually, the embedded
    store never does, so readers must still check expiry themselves.
    """

    name: str
    keys: tuple[tuple[str, SortDirection], ...]
    unique: bool = False
    expire_after_seconds: int | None = None

    def __post_init__(self) -> None:
        check_name(self.name, what="index name")
        if not self.keys:
            raise ValueError(f"index {self.name!r} has no keys")
        for field, direction in self.keys:
            check_field_path(field)
            if direction not in (ASCENDING, DESCENDING):
                raise ValueError(f"index {self.name!r}: direction of {field!r} must be 1 or -1")
        if len({field for field, _ in self.keys}) != len(self.keys):
            raise ValueError(f"index {self.name!r} repeats a field")
        if self.expire_after_seconds is not None:
            if len(self.keys) != 1:
                raise ValueError(f"TTL index {self.name!r} must have exactly one key")
            if self.expire_after_seconds < 0:
                raise ValueError(f"TTL index {self.name!r}: expire_after_seconds must be >= 0")


class DocumentCollection(Protocol):
    """One collection. Every method may raise `StorageUnavailable` or `StorageError`.

    Versions: `insert` stores a document without a `version` field with `version = 1`;
    `replace` and `delete` with `expected_version` succeed only while the stored `version`
    equals it (optimistic concurrency: of N concurrent writers holding the same version,
    exactly one wins, the others get False and re-read).
    """

    async def insert(self, doc: Mapping[str, Any]) -> None:
        """Raise `DuplicateKey` if `_id` or a unique-indexed value is taken."""
        ...

    async def get(self, _id: str) -> Document | None: ...

    async def find_one(self, filter: Filter) -> Document | None: ...

    async def find(
        self,
        filter: Filter,
        *,
        sort: Sort = (),
        limit: int | None = None,
        skip: int = 0,
    ) -> list[Document]:
        """Without `sort` the order is unspecified; sort on a unique field (e.g. add `_id`)
        as the last key when paging with `skip`/`limit`."""
        ...

    async def count(self, filter: Filter) -> int: ...

    async def replace(self, doc: Mapping[str, Any], *, expected_version: int) -> bool:
        """Store `doc` with `version = expected_version + 1` in place of the document with
        the same `_id` whose version is `expected_version`; False if there is none.
        Raise `DuplicateKey` if the new document breaks a unique index."""
        ...

    async def delete(self, _id: str, *, expected_version: int | None = None) -> bool: ...

    async def delete_many(self, filter: Filter) -> int: ...

    async def ensure_indexes(self, specs: Sequence[IndexSpec]) -> None:
        """Create missing indexes; idempotent. Raise `StorageError` if an index of the same
        name exists with other keys or options, `DuplicateKey` if stored documents already
        break a new unique index."""
        ...


class Database(Protocol):
    """A service's own database. Nothing connects before the first operation: call
    `ping()` at start-up (and in readiness checks) to surface an outage early."""

    def collection(self, name: str) -> DocumentCollection: ...

    async def ping(self) -> None:
        """Raise `StorageUnavailable` if the store cannot be reached."""
        ...

    async def close(self) -> None:
        """Release connections; the database cannot be used afterwards."""
        ...
