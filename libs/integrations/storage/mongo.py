"""The production store: MongoDB (or any server speaking its wire protocol) via pymongo's
async client. The client connects on first use; `ping()` forces it."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, Final

from bson.errors import BSONError
from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    DuplicateKeyError,
    ExecutionTimeout,
    OperationFailure,
    PyMongoError,
)

from integrations.storage.documents import check_document, check_expected_version, check_name
from integrations.storage.errors import (
    DuplicateKey,
    InvalidDocument,
    StorageError,
    StorageUnavailable,
)
from integrations.storage.filters import (
    Condition,
    check_page,
    check_sort,
    parse_filter,
)
from integrations.storage.ports import (
    FIRST_VERSION,
    VERSION_FIELD,
    Document,
    Filter,
    IndexSpec,
    Sort,
)

_DUPLICATE_KEY_CODES: Final = frozenset({11000, 11001, 12582})
_NOT_IMPLEMENTED: Final = 238
_INDEX_IN_MESSAGE: Final = re.compile(r"index: (\S+)")

_log = logging.getLogger(__name__)


class MongoDatabase:
    def __init__(self, url: str, *, name: str, timeout: float = 5.0) -> None:
        """`timeout` (seconds) bounds server selection and connecting, so an outage
        surfaces as `StorageUnavailable` quickly; options in the URL take precedence."""
        check_name(name, what="database name")
        options: dict[str, Any] = {}
        lowered = url.lower()
        if "serverselectiontimeoutms=" not in lowered:
            options["serverSelectionTimeoutMS"] = int(timeout * 1000)
        if "connecttimeoutms=" not in lowered:
            options["connectTimeoutMS"] = int(timeout * 1000)
        try:
            self._client: AsyncMongoClient[Document] = AsyncMongoClient(url, **options)
        except ConfigurationError as e:
            raise ValueError(f"invalid MongoDB URL: {e}") from None
        self._database = self._client.get_database(name)

    def collection(self, name: str) -> MongoCollection:
        return MongoCollection(
            self._database.get_collection(check_name(name, what="collection name"))
        )

    async def ping(self) -> None:
        with _translated_errors():
            await self._database.command("ping")

    async def close(self) -> None:
        await self._client.close()


class MongoCollection:
    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def insert(self, doc: Mapping[str, Any]) -> None:
        check_document(doc)
        stored = {**doc}
        stored.setdefault(VERSION_FIELD, FIRST_VERSION)
        with _translated_errors():
            await self._collection.insert_one(stored)

    async def get(self, _id: str) -> Document | None:
        with _translated_errors():
            return await self._collection.find_one({"_id": _id})

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
        query = _mongo_filter(parse_filter(filter))
        check_sort(sort)
        check_page(limit, skip)
        if limit == 0:  # MongoDB reads limit 0 as "no limit"
            return []
        with _translated_errors():
            cursor = self._collection.find(
                query, sort=list(sort) or None, skip=skip, limit=limit or 0
            )
            return await cursor.to_list()

    async def count(self, filter: Filter) -> int:
        query = _mongo_filter(parse_filter(filter))
        with _translated_errors():
            return await self._collection.count_documents(query)

    async def replace(self, doc: Mapping[str, Any], *, expected_version: int) -> bool:
        check_document(doc)
        check_expected_version(expected_version)
        stored = {**doc, VERSION_FIELD: expected_version + 1}
        with _translated_errors():
            result = await self._collection.replace_one(
                {"_id": stored["_id"], VERSION_FIELD: expected_version}, stored
            )
        return result.matched_count == 1

    async def delete(self, _id: str, *, expected_version: int | None = None) -> bool:
        check_expected_version(expected_version)
        query: dict[str, Any] = {"_id": _id}
        if expected_version is not None:
            query[VERSION_FIELD] = expected_version
        with _translated_errors():
            result = await self._collection.delete_one(query)
        return result.deleted_count == 1

    async def delete_many(self, filter: Filter) -> int:
        query = _mongo_filter(parse_filter(filter))
        with _translated_errors():
            result = await self._collection.delete_many(query)
        return result.deleted_count

    async def ensure_indexes(self, specs: Sequence[IndexSpec]) -> None:
        # One index per command: FerretDB v1 fails a batch whose indexes all exist already.
        for spec in specs:
            with _translated_errors():
                try:
                    await self._collection.create_indexes([_index_model(spec)])
                except OperationFailure as e:
                    if e.code != _NOT_IMPLEMENTED or spec.expire_after_seconds is None:
                        raise
                    # Correctness never depends on TTL (see IndexSpec): keep the index.
                    _log.warning(
                        "%s: the server cannot expire documents; index %r created without TTL",
                        self._collection.full_name,
                        spec.name,
                    )
                    await self._collection.create_indexes([_index_model(spec, ttl=False)])


def _index_model(spec: IndexSpec, *, ttl: bool = True) -> IndexModel:
    options: dict[str, Any] = {"name": spec.name, "unique": spec.unique}
    if ttl and spec.expire_after_seconds is not None:
        options["expireAfterSeconds"] = spec.expire_after_seconds
    return IndexModel(list(spec.keys), **options)


def _mongo_filter(conditions: Sequence[Condition]) -> dict[str, Any]:
    query: dict[str, Any] = {}
    for condition in conditions:
        operand = condition.operand
        value = list(operand) if isinstance(operand, tuple) else operand
        if condition.operator == "$eq":
            query[condition.field] = value
        else:
            query.setdefault(condition.field, {})[condition.operator] = value
    return query


@contextmanager
def _translated_errors() -> Iterator[None]:
    try:
        yield
    except DuplicateKeyError as e:
        raise _duplicate_key(e) from None  # MongoDB's message quotes the duplicate value
    except ConnectionFailure as e:
        raise StorageUnavailable(f"MongoDB unreachable: {e}") from e
    except ExecutionTimeout as e:
        raise StorageUnavailable(f"MongoDB timed out: {e}") from e
    except OperationFailure as e:
        if e.code in _DUPLICATE_KEY_CODES:
            raise _duplicate_key(e) from None
        if e.has_error_label("RetryableWriteError") or e.has_error_label("RetryableError"):
            raise StorageUnavailable(f"MongoDB: {e}") from e
        raise StorageError(f"MongoDB: {e}") from e
    except PyMongoError as e:
        if e.timeout:
            raise StorageUnavailable(f"MongoDB timed out: {e}") from e
        raise StorageError(f"MongoDB: {e}") from e
    except (BSONError, UnicodeEncodeError) as e:
        raise InvalidDocument(f"not encodable as BSON: {e}") from e


def _duplicate_key(error: OperationFailure) -> DuplicateKey:
    match = _INDEX_IN_MESSAGE.search(str((error.details or {}).get("errmsg") or error))
    index = match.group(1) if match else None
    return DuplicateKey(f"duplicate key in index {index or '(unnamed)'}", index=index)
