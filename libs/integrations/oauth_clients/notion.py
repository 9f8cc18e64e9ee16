"""Notion: the token answer itself describes the account (workspace and owner), so there is
no user call; tokens never expire and cannot be refreshed or revoked. Basic client auth,
the JSON token request and `owner=user` are declared."""

from collections.abc import Mapping
from typing import Any, ClassVar

from integrations.oauth_clients.declared import DeclaredOAuthHandler

# What the answer holds besides the tokens, kept as the credential's metadata.
_WORKSPACE_FIELDS = ("workspace_id", "workspace_name", "workspace_icon", "bot_id", "owner")


class NotionOAuthHandler(DeclaredOAuthHandler):
    PROVIDER_NAME: ClassVar[str | None] = "notion"

    def account_fields(self, answer: Mapping[str, Any]) -> dict[str, Any]:
        workspace = answer.get("workspace_name")
        return {
            "title": workspace if isinstance(workspace, str) else None,
            "username": _owner_email(answer.get("owner")),
            "metadata": {key: answer[key] for key in _WORKSPACE_FIELDS if key in answer},
        }


def _owner_email(owner: object) -> str | None:
    # {"type": "user", "user": {"person": {"email": ...}}}; a bot-owned workspace has none.
    if not isinstance(owner, dict):
        return None
    user = owner.get("user")
    person = user.get("person") if isinstance(user, dict) else None
    email = person.get("email") if isinstance(person, dict) else None
    return email if isinstance(email, str) else None
