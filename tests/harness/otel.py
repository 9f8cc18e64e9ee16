"""A fresh OpenTelemetry global state for tests that observe the process's own telemetry.

OpenTelemetry lets a process set its global tracer and meter providers once; the first
test to build a service would otherwise own them for the whole run, and a test reading
`/metrics` or the spans of a composed platform would see that earlier test's providers.
"""

from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.metrics import _internal as metrics_internal
from opentelemetry.util._once import Once

from integrations.telemetry import setup as telemetry_setup

_TELEMETRY_GLOBALS = ("_global_set", "_global_exposition")


@pytest.fixture
def fresh_telemetry_globals() -> Iterator[None]:
    saved = (
        trace._TRACER_PROVIDER,
        trace._TRACER_PROVIDER_SET_ONCE,
        metrics_internal._METER_PROVIDER,
        metrics_internal._METER_PROVIDER_SET_ONCE,
        metrics_internal._PROXY_METER_PROVIDER,
        [getattr(telemetry_setup, name) for name in _TELEMETRY_GLOBALS],
    )
    _reset()
    try:
        yield
    finally:
        (
            trace._TRACER_PROVIDER,
            trace._TRACER_PROVIDER_SET_ONCE,
            metrics_internal._METER_PROVIDER,
            metrics_internal._METER_PROVIDER_SET_ONCE,
            metrics_internal._PROXY_METER_PROVIDER,
            values,
        ) = saved
        for name, value in zip(_TELEMETRY_GLOBALS, values, strict=True):
            setattr(telemetry_setup, name, value)


def _reset() -> None:
    trace._TRACER_PROVIDER = None
    trace._TRACER_PROVIDER_SET_ONCE = Once()
    metrics_internal._METER_PROVIDER = None
    metrics_internal._METER_PROVIDER_SET_ONCE = Once()
    # Once bound, the proxy hands out meters of the provider it was bound to: a new one
    # binds to the provider this test's services set.
    metrics_internal._PROXY_METER_PROVIDER = metrics_internal._ProxyMeterProvider()
    telemetry_setup._global_set = False
    telemetry_setup._global_exposition = None
