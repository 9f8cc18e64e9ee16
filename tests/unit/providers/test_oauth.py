import pytest
from pydantic import SecretStr

from integrations.providers import OAuthConfig, OAuthTokens, ProviderNotConfigured
from integrations.providers.oauth import REFRESH_MARGIN_SECONDS

from .test_registry import OAUTH, AnonymousHandler

pytestmark = pytest.mark.unit

REDIRECT = "https://platform.test/auth/integrations/oauth_callback"
ENV = {"EXAMPLE_CLIENT_ID": "client-id", "EXAMPLE_CLIENT_SECRET": "client-secret-xyz"}


def config(**fields: object) -> OAuthConfig:
    base: dict[str, object] = {
        "authorize_url": "https://example.test/authorize",
        "token_url": "https://example.test/token",
        "client_id_env": "EXAMPLE_CLIENT_ID",
        "client_secret_env": "EXAMPLE_CLIENT_SECRET",
    }
    return OAuthConfig(**{**base, **fields})  # type: ignore[arg-type]


def test_default_scopes_stand_in_for_an_empty_request() -> None:
    """SPEC RT-2: default scopes applied when none requested."""
    oauth = config(default_scopes=("identify",))

    assert oauth.effective_scopes([]) == ("identify",)
    assert oauth.effective_scopes(["guilds"]) == ("guilds",)


def test_always_mode_adds_the_default_scopes_without_duplicates() -> None:
    oauth = config(default_scopes=("openid", "email"), default_scopes_mode="always")

    assert oauth.effective_scopes(["drive", "openid"]) == ("drive", "openid", "email")


def test_granted_scopes_are_split_on_the_declared_separator_and_on_whitespace() -> None:
    """SPEC RT-2: a single space-separated scope string is split, for every provider."""
    oauth = config(scope_separator=",")

    assert oauth.parse_granted_scopes("read,write") == ("read", "write")
    assert oauth.parse_granted_scopes("read write") == ("read", "write")
    assert oauth.parse_granted_scopes(["read", "write", "read"]) == ("read", "write")
    assert oauth.parse_granted_scopes("") == ()
    assert oauth.parse_granted_scopes(None) == ()


def test_client_credentials_come_from_the_declared_env_vars() -> None:
    """SPEC CM-7."""
    client = OAUTH.client_from_env("example", ENV, redirect_uri=REDIRECT)

    assert client.client_id == "client-id"
    assert client.client_secret.get_secret_value() == "client-secret-xyz"
    assert client.redirect_uri == REDIRECT
    assert "client-secret-xyz" not in repr(client)


def test_a_missing_client_id_or_secret_means_not_configured() -> None:
    """SPEC CM-7: missing → "not configured" error, naming what to set, never a value."""
    with pytest.raises(ProviderNotConfigured, match="EXAMPLE_CLIENT_SECRET") as raised:
        OAUTH.client_from_env(
            "example", {**ENV, "EXAMPLE_CLIENT_SECRET": ""}, redirect_uri=REDIRECT
        )

    assert raised.value.provider == "example"
    assert raised.value.missing == ["EXAMPLE_CLIENT_SECRET"]
    assert "client-id" not in str(raised.value)


def test_declarations_cannot_be_changed_after_the_fact() -> None:
    """SPEC REG-2: the registry hands out shared declarations; they must be immutable."""
    params = {"owner": "user"}
    oauth = config(extra_authorize_params=params)
    params["owner"] = "workspace"

    assert oauth.extra_authorize_params == {"owner": "user"}
    with pytest.raises(TypeError):
        oauth.extra_authorize_params["owner"] = "workspace"  # type: ignore[index]
    assert oauth == config(extra_authorize_params={"owner": "user"})


def test_a_scope_separator_is_required() -> None:
    with pytest.raises(ValueError, match="scope_separator"):
        config(scope_separator="")


def test_tokens_need_refresh_when_they_expire_within_five_minutes() -> None:
    """SPEC CM-1: expiring within 5 minutes → refresh; no expiry → as they are."""
    handler = AnonymousHandler.__new__(AnonymousHandler)  # needs_refresh uses no dependency
    now = 1_700_000_000

    def tokens(expires_at: int | None) -> OAuthTokens:
        return OAuthTokens(access_token=SecretStr("t"), access_token_expires_at=expires_at)

    assert REFRESH_MARGIN_SECONDS == 300
    assert handler.needs_refresh(tokens(now + 299), now=now)
    assert handler.needs_refresh(tokens(now - 10), now=now)
    assert not handler.needs_refresh(tokens(now + 301), now=now)
    assert not handler.needs_refresh(tokens(None), now=now)


def test_tokens_never_show_their_secrets() -> None:
    tokens = OAuthTokens(access_token=SecretStr("gho_access"), refresh_token=SecretStr("ghr_ref"))

    for shown in (repr(tokens), str(tokens), tokens.model_dump_json()):
        assert "gho_access" not in shown
        assert "ghr_ref" not in shown
