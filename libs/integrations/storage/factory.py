"""Pick the adapter from a URL, so configuration alone decides where data lives."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from integrations.storage.mongo import MongoDatabase
from integrations.storage.ports import Database
from integrations.storage.sqlite import SqliteDatabase

_IN_MEMORY = frozenset({"memory://", "sqlite://", "sqlite://:memory:", "sqlite:///:memory:"})


def open_database(url: str, *, name: str, timeout: float = 5.0) -> Database:
    """Return the database `name` at `url`, without connecting yet.

    - `mongodb://...`, `mongodb+srv://...`: MongoDB; `timeout` (s) bounds server selection.
    - `sqlite:///relative/file.db`, `sqlite:////absolute/file.db` (SQLAlchemy's
      convention): the embedded store, a file created with its directories on first use;
      `timeout` (s) is how long a writer waits for another. One file can hold several
      databases (tables are `<name>.<collection>`).
    - `memory://` or `sqlite://:memory:`: the embedded store in memory (tests).
    """
    scheme = url.partition("://")[0].lower()
    if scheme in ("mongodb", "mongodb+srv"):
        return MongoDatabase(url, name=name, timeout=timeout)
    if url in _IN_MEMORY:
        return SqliteDatabase(None, name=name, busy_timeout=timeout)
    if scheme == "sqlite" and url.startswith("sqlite:///"):
        path = unquote(url.removeprefix("sqlite:///"))
        if not path or "?" in path or path.endswith("/"):
            raise ValueError("expected sqlite:///path/to/file.db (no query string)")
        return SqliteDatabase(Path(path), name=name, busy_timeout=timeout)
    raise ValueError(f"unsupported database URL scheme {scheme!r}: use mongodb:// or sqlite:///")
