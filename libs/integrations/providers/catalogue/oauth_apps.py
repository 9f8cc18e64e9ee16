"""Providers users connect with OAuth. Client id/secret env var names are the original's
(`{NAME}_CLIENT_ID`, `{NAME}_CLIENT_SECRET`)."""

# ruff: noqa: S106 - the "secret"/"token"/"password" arguments here name env vars and URLs.

from integrations.providers.oauth import OAuthConfig
from integrations.providers.provider import Provider
from integrations.providers.webhooks import WebhookConfig

GITHUB = Provider(
    name="github",
    title="GitHub",
    oauth=OAuthConfig(
        authorize_url="https://github.com/login/oauth/authorize",
        token_url="https://github.com/login/oauth/access_token",
        # DELETE with Basic client auth and the token in a JSON body: the handler's quirk.
        revoke_url="https://api.github.com/applications/{client_id}/token",
        user_info_url="https://api.github.com/user",
        client_id_env="GITHUB_CLIENT_ID",
        client_secret_env="GITHUB_CLIENT_SECRET",
        granted_scope_separator=",",
    ),
    webhooks=WebhookConfig(
        mode="auto",
        signature_scheme="github",
        delivery_id_header="X-GitHub-Delivery",
        webhook_types=("repo",),
    ),
)

GOOGLE = Provider(
    name="google",
    title="Google",
    oauth=OAuthConfig(
        authorize_url="https://accounts.google.com/o/oauth2/v2/auth",
        token_url="https://oauth2.googleapis.com/token",
        revoke_url="https://oauth2.googleapis.com/revoke",
        user_info_url="https://www.googleapis.com/oauth2/v2/userinfo",
        client_id_env="GOOGLE_CLIENT_ID",
        client_secret_env="GOOGLE_CLIENT_SECRET",
        pkce=True,
        # The email scope gives the credential its username.
        default_scopes=(
            "https://www.googleapis.com/auth/userinfo.email",
            "https://www.googleapis.com/auth/userinfo.profile",
            "openid",
        ),
        default_scopes_mode="always",
        # offline + consent: Google only returns a refresh token when both are asked for.
        extra_authorize_params={
            "access_type": "offline",
            "include_granted_scopes": "true",
            "prompt": "consent",
        },
    ),
)

NOTION = Provider(
    name="notion",
    title="Notion",
    oauth=OAuthConfig(
        # Notion has no scopes, no refresh (tokens never expire) and no revocation.
        authorize_url="https://api.notion.com/v1/oauth/authorize",
        token_url="https://api.notion.com/v1/oauth/token",
        client_id_env="NOTION_CLIENT_ID",
        client_secret_env="NOTION_CLIENT_SECRET",
        client_auth_method="client_secret_basic",
        token_request_format="json",
        extra_authorize_params={"owner": "user"},
    ),
)

LINEAR = Provider(
    name="linear",
    title="Linear",
    oauth=OAuthConfig(
        authorize_url="https://linear.app/oauth/authorize",
        token_url="https://api.linear.app/oauth/token",
        revoke_url="https://api.linear.app/oauth/revoke",
        # No REST user-info endpoint: the username comes from a GraphQL `viewer` query.
        client_id_env="LINEAR_CLIENT_ID",
        client_secret_env="LINEAR_CLIENT_SECRET",
        scope_separator=",",
        # The original special-cased this in its router; here it is data.
        granted_scope_separator=" ",
        default_scopes=("read", "write", "issues:create", "comments:create"),
    ),
    base_costs=({"amount": 1, "type": "run"},),
)

TWITTER = Provider(
    name="twitter",
    title="Twitter / X",
    oauth=OAuthConfig(
        authorize_url="https://twitter.com/i/oauth2/authorize",
        token_url="https://api.x.com/2/oauth2/token",
        revoke_url="https://api.x.com/2/oauth2/revoke",
        user_info_url="https://api.x.com/2/users/me",
        client_id_env="TWITTER_CLIENT_ID",
        client_secret_env="TWITTER_CLIENT_SECRET",
        pkce=True,  # required by X
        client_auth_method="client_secret_basic",
        # The original always asked for all of these; `offline.access` is what yields a
        # refresh token.
        default_scopes=(
            "tweet.read",
            "tweet.write",
            "tweet.moderate.write",
            "users.read",
            "follows.read",
            "follows.write",
            "offline.access",
            "space.read",
            "mute.read",
            "mute.write",
            "like.read",
            "like.write",
            "list.read",
            "list.write",
            "block.read",
            "block.write",
            "bookmark.read",
            "bookmark.write",
        ),
        default_scopes_mode="always",
    ),
)

TODOIST = Provider(
    name="todoist",
    title="Todoist",
    oauth=OAuthConfig(
        # No refresh (tokens never expire), no revocation, no user-info call.
        authorize_url="https://todoist.com/oauth/authorize",
        token_url="https://todoist.com/oauth/access_token",
        client_id_env="TODOIST_CLIENT_ID",
        client_secret_env="TODOIST_CLIENT_SECRET",
        scope_separator=",",
        default_scopes=(
            "task:add",
            "data:read",
            "data:read_write",
            "data:delete",
            "project:delete",
        ),
        default_scopes_mode="always",
    ),
)

DISCORD = Provider(
    name="discord",
    title="Discord",
    oauth=OAuthConfig(
        authorize_url="https://discord.com/oauth2/authorize",
        token_url="https://discord.com/api/oauth2/token",
        revoke_url="https://discord.com/api/oauth2/token/revoke",
        user_info_url="https://discord.com/api/oauth2/@me",
        client_id_env="DISCORD_CLIENT_ID",
        client_secret_env="DISCORD_CLIENT_SECRET",
        pkce=True,
        default_scopes=("identify",),
    ),
)

REDDIT = Provider(
    name="reddit",
    title="Reddit",
    oauth=OAuthConfig(
        # Reddit also wants a descriptive User-Agent on every call, and grants "*" for "all
        # requested": both are the handler's quirks.
        authorize_url="https://www.reddit.com/api/v1/authorize",
        token_url="https://www.reddit.com/api/v1/access_token",
        revoke_url="https://www.reddit.com/api/v1/revoke_token",
        user_info_url="https://oauth.reddit.com/api/v1/me",
        client_id_env="REDDIT_CLIENT_ID",
        client_secret_env="REDDIT_CLIENT_SECRET",
        client_auth_method="client_secret_basic",
        default_scopes=(
            "identity",
            "read",
            "submit",
            "edit",
            "history",
            "privatemessages",
            "flair",
        ),
        extra_authorize_params={"duration": "permanent"},  # else no refresh token
    ),
)

OAUTH_PROVIDERS = (GITHUB, GOOGLE, NOTION, LINEAR, TWITTER, TODOIST, DISCORD, REDDIT)
