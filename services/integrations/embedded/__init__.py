"""The embedded default: the four services in one process, on one in-memory bus, each with
its own SQLite store under the data folder, behind one HTTP port (`integrations dev`)."""
