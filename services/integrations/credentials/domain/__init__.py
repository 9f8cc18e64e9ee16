"""The credentials service's domain: credential kinds and the rules that govern changes.

Pure: no I/O, no framework beyond pydantic models.
"""
