"""Dispatcher domain: trigger matching and execution-request fan-out (pure)."""
