"""Todoist: nothing to add to the declaration. Scopes are comma-separated, the answer has no
`scope` (so the requested ones are granted, RFC 6749 §5.1) and no expiry (so no refresh),
and there is neither a revocation nor a user endpoint. Kept as a module so the provider has
one place for a quirk that turns up."""

from typing import ClassVar

from integrations.oauth_clients.declared import DeclaredOAuthHandler


class TodoistOAuthHandler(DeclaredOAuthHandler):
    PROVIDER_NAME: ClassVar[str | None] = "todoist"
