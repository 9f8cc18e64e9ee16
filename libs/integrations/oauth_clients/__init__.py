"""OAuth 2.0 handlers (`integrations.providers.OAuthHandler`) on authlib's OAuth 2 client.

Shared by the oauth service (authorize URL, code exchange) and the credentials service
(refresh, revocation); services never import each other, so the code lives here.

- `DeclaredOAuthHandler`: the authorization-code flow as a provider's `OAuthConfig` declares
  it (URLs, scope separators, PKCE, default scopes, client authentication, extra authorize
  parameters), with RFC 7009 revocation and a user-endpoint lookup of the account name.
- One module per provider with quirks, each a subclass overriding only those
  (`github`, `google`, `notion`, `linear`, `twitter`, `todoist`, `discord`, `reddit`).
- `oauth_registry()`: the catalogue's registry with a handler for every OAuth provider;
  `create_handler(...)` builds one with the deployment's client id/secret (SPEC CM-7).

Every handler takes an injected `httpx.AsyncClient` and reaches the provider only through
the URLs of its `OAuthConfig` (tests pass `dataclasses.replace(config, token_url=...)`);
Linear's GraphQL URL is a constructor argument.
"""

from integrations.oauth_clients.declared import DeclaredOAuthHandler
from integrations.oauth_clients.errors import (
    NotRefreshable,
    OAuthNotSupported,
    ProviderRefused,
    ProviderUnavailable,
)
from integrations.oauth_clients.registry import (
    CALLBACK_PATH,
    OAUTH_HANDLERS,
    callback_redirect_uri,
    create_handler,
    handlers_for,
    oauth_registry,
)

__all__ = [
    "CALLBACK_PATH",
    "OAUTH_HANDLERS",
    "DeclaredOAuthHandler",
    "NotRefreshable",
    "OAuthNotSupported",
    "ProviderRefused",
    "ProviderUnavailable",
    "callback_redirect_uri",
    "create_handler",
    "handlers_for",
    "oauth_registry",
]
