"""Shared pytest setup: the real-server harness fixtures are plugins of their own."""

from hypothesis import HealthCheck, settings

pytest_plugins = [
    "tests.harness.kafka_fixtures",
    "tests.harness.mongo_fixtures",
    "tests.harness.otel",
]

# No timing in property tests: Hypothesis's per-example deadline and its "too slow" check
# fail on a busy machine, not on a wrong answer.
settings.register_profile(
    "project", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("project")
