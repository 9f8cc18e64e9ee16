"""SPEC RT-6: the two outcomes of asking to delete credentials."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Deleted:
    # True: the provider revoked the tokens; False: it refused or failed; None: not possible.
    revoked: bool | None


@dataclass(frozen=True)
class NeedsConfirmation:
    message: str


Deletion = Deleted | NeedsConfirmation
