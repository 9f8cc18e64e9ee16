"""Shared pytest setup: the real-server harness fixtures are plugins of their own."""

pytest_plugins = [
    "tests.harness.kafka_fixtures",
    "tests.harness.mongo_fixtures",
    "tests.harness.otel",
]
