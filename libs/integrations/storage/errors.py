"""Storage errors, the same for every adapter.

StorageError                 anything the store could not do
├── StorageUnavailable       the store cannot be reached (answer 503, retry later)
├── DuplicateKey             a write would repeat an `_id` or a unique-indexed value
├── UnsupportedFilter        a filter outside the portable subset (a programming error)
└── InvalidDocument          a document that is not plain JSON with a string `_id`
"""

from __future__ import annotations


class StorageError(Exception):
    pass


class StorageUnavailable(StorageError):
    pass


class DuplicateKey(StorageError):
    """`index` names the violated unique index (`_id_` for `_id`) when the store tells."""

    def __init__(self, message: str, *, index: str | None = None) -> None:
        super().__init__(message)
        self.index = index


class UnsupportedFilter(StorageError, ValueError):
    pass


class InvalidDocument(StorageError, ValueError):
    pass
