"""How a service is assembled and run, alone or with the others in one process.

A service's `bootstrap.py` returns a `ServiceUnit`: its HTTP routers, readiness checks and
start/stop hooks, built from adapters it is handed. `serve_standalone` runs one unit with its
own Kafka bus and MongoDB; the embedded default (`integrations dev`) runs all four units on
one in-memory bus, each with its own embedded store, behind one HTTP port.
"""

from integrations.runtime.unit import ServiceUnit

__all__ = ["ServiceUnit"]
