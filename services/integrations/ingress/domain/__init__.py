"""Ingress domain: webhook verification schemes and event derivation (pure)."""
