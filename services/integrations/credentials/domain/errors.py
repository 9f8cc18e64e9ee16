"""Why a credentials verb refused; every message is safe to show to the user.

CredentialsAlreadyExist   (ports)  SPEC CS-3: the id is taken for this user     → 409
CredentialsRuleViolation  (rules)  SPEC CS-5: an update the rules forbid        → 400
CredentialsNotFound                missing, another user's, or another provider → 404
CredentialsProtected               system or managed credentials (RT-5, RT-6)   → 403
ConcurrentUpdate                   CS-10: lost the version race on every retry  → 409
UnreadableCommand                  a command that can never be applied (logged, skipped)
"""


class CredentialsNotFound(LookupError):
    def __init__(self) -> None:
        # One message for every cause: another user's id must look exactly like a missing one.
        super().__init__("Credentials not found.")


class CredentialsProtected(PermissionError):
    pass


class ConcurrentUpdate(Exception):
    def __init__(self) -> None:
        super().__init__("The credentials were changed concurrently; retry the update.")


class UnreadableCommand(ValueError):
    """Redelivering it cannot help (bad ciphertext, invalid content): log and skip it."""
