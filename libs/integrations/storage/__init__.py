"""How a service gets its database: the storage port, its adapters and `open_database`.

See docs/storage.md.
"""

from integrations.storage.errors import (
    DuplicateKey,
    InvalidDocument,
    StorageError,
    StorageUnavailable,
    UnsupportedFilter,
)
from integrations.storage.factory import open_database
from integrations.storage.ports import (
    ASCENDING,
    DESCENDING,
    FIRST_VERSION,
    VERSION_FIELD,
    Database,
    Document,
    DocumentCollection,
    Filter,
    IndexSpec,
    Sort,
    SortDirection,
)

__all__ = [
    "ASCENDING",
    "DESCENDING",
    "FIRST_VERSION",
    "VERSION_FIELD",
    "Database",
    "Document",
    "DocumentCollection",
    "DuplicateKey",
    "Filter",
    "IndexSpec",
    "InvalidDocument",
    "Sort",
    "SortDirection",
    "StorageError",
    "StorageUnavailable",
    "UnsupportedFilter",
    "open_database",
]
