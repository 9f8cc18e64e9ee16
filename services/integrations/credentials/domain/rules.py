"""What may change about a stored credential (SPEC CS-5)."""

from integrations.credentials.domain.credentials import Credentials, OAuth2Credentials


class CredentialsRuleViolation(ValueError):
    """An update or creation that the rules forbid; the message is safe to show."""


def check_update(current: Credentials, updated: Credentials) -> None:
    if updated.id != current.id:
        raise CredentialsRuleViolation("The credential id cannot change.")
    if updated.type != current.type:
        raise CredentialsRuleViolation(
            f"Cannot change the credential type from {current.type} to {updated.type}."
        )
    # The original performed this check behind an unreachable branch; here it always runs.
    if isinstance(current, OAuth2Credentials) and isinstance(updated, OAuth2Credentials):
        removed = set(current.scopes) - set(updated.scopes)
        if removed:
            raise CredentialsRuleViolation(
                "An update may not remove granted scopes: " + ", ".join(sorted(removed))
            )
