from collections import Counter

import pytest

from integrations.providers import Provider, build_registry, constant_name, default_registry
from integrations.providers.catalogue import (
    CATALOGUE,
    OAUTH_PROVIDERS,
    SYSTEM_CREDENTIAL_PROVIDERS,
    WEBHOOK_PROVIDERS,
)
from integrations.providers.webhooks import SIGNATURE_SCHEMES

pytestmark = pytest.mark.unit

# SPEC CS-2's list; the original's provider for D-ID is `d_id` (its setting `did_api_key`).
CS2_PROVIDERS = {
    "ollama", "revid", "ideogram", "groq", "replicate", "openai", "aiml_api", "anthropic",
    "d_id", "jina", "unreal_speech", "open_router", "enrichlayer", "fal", "exa", "e2b",
    "nvidia", "screenshotone", "mem0", "apollo", "smartlead", "zerobounce", "google_maps",
    "llama_api", "v0", "webshare_proxy", "openweathermap", "elevenlabs",
}  # fmt: skip


def test_no_provider_is_declared_twice() -> None:
    """SPEC REG-1: one declaration per name (and one client constant per name)."""
    names = Counter(p.name for p in CATALOGUE)
    assert [name for name, count in names.items() if count > 1] == []
    assert len({constant_name(p.name) for p in CATALOGUE}) == len(CATALOGUE)


def test_the_catalogue_builds_a_registry() -> None:
    """SPEC REG-5: every declaration is valid and registers."""
    assert build_registry().names() == sorted(p.name for p in CATALOGUE)


def test_the_original_oauth_providers_are_declared() -> None:
    """SPEC REG-1, CM-7."""
    assert {p.name for p in CATALOGUE if p.oauth} == {
        "github", "google", "notion", "linear", "twitter", "todoist", "discord", "reddit",
    }  # fmt: skip
    assert {p.name for p in OAUTH_PROVIDERS} == {p.name for p in CATALOGUE if p.oauth}


@pytest.mark.parametrize("provider", OAUTH_PROVIDERS, ids=lambda p: p.name)
def test_every_oauth_provider_declares_urls_env_vars_and_a_scope_separator(
    provider: Provider,
) -> None:
    """SPEC CM-7: client id/secret come from the provider's env vars."""
    oauth = default_registry().oauth_config(provider.name)
    assert oauth is not None
    prefix = constant_name(provider.name)
    assert oauth.client_id_env == f"{prefix}_CLIENT_ID"
    assert oauth.client_secret_env == f"{prefix}_CLIENT_SECRET"
    for url in (oauth.authorize_url, oauth.token_url, oauth.revoke_url, oauth.user_info_url):
        assert url is None or url.startswith("https://")
    assert oauth.authorize_url
    assert oauth.token_url
    assert oauth.scope_separator in {" ", ","}
    assert oauth.granted_scope_separator in {None, " ", ","}


def test_provider_specific_oauth_facts_are_data() -> None:
    """SPEC RT-2 and STYLE 8-9: quirks the original coded (Linear's scopes, Twitter's PKCE,
    Google's offline access) are declared."""
    registry = default_registry()
    github, linear, twitter, google, notion, reddit = (
        registry.oauth_config(name)
        for name in ("github", "linear", "twitter", "google", "notion", "reddit")
    )
    assert github
    assert linear
    assert twitter
    assert google
    assert notion
    assert reddit
    assert github.parse_granted_scopes("repo,read:org") == ("repo", "read:org")
    assert linear.join_scopes(["read", "write"]) == "read,write"
    assert linear.parse_granted_scopes("read write") == ("read", "write")
    assert twitter.pkce
    assert twitter.client_auth_method == "client_secret_basic"
    assert "offline.access" in twitter.effective_scopes(["tweet.read"])
    assert google.extra_authorize_params["access_type"] == "offline"
    assert "openid" in google.effective_scopes(["https://www.googleapis.com/auth/drive"])
    assert notion.revoke_url is None
    assert notion.client_auth_method == "client_secret_basic"
    assert reddit.extra_authorize_params == {"duration": "permanent"}


def test_webhook_providers_declare_mode_and_signature_scheme() -> None:
    """SPEC WH-2, WH-3, WH-5."""
    registry = default_registry()
    declared = {p.name: p.webhooks for p in CATALOGUE if p.webhooks}
    assert {p.name for p in WEBHOOK_PROVIDERS} <= set(declared)
    assert {"github", "generic_webhook", "slack", "stripe", "telegram"} <= set(declared)
    for name, webhooks in declared.items():
        assert registry.webhook_config(name) is webhooks
        assert webhooks.signature_scheme in SIGNATURE_SCHEMES
        assert webhooks.mode in {"auto", "manual"}

    github = declared["github"]
    assert github.mode == "auto"
    assert github.signature_scheme == "github"
    generic = declared["generic_webhook"]
    assert generic.mode == "manual"
    assert generic.signature_scheme == "none"
    assert not generic.signed
    assert declared["slack"].signature_scheme == "slack"
    assert declared["stripe"].signature_scheme == "stripe"
    assert declared["telegram"].signature_scheme == "telegram"
    assert {w.signature_scheme for w in declared.values()} == set(SIGNATURE_SCHEMES)


def test_the_system_credential_providers_are_cs2s() -> None:
    """SPEC CS-2."""
    assert {p.name for p in CATALOGUE if p.system_credential} == CS2_PROVIDERS
    assert {p.name for p in SYSTEM_CREDENTIAL_PROVIDERS} == CS2_PROVIDERS


def test_api_key_env_mappings_follow_the_original_settings_names() -> None:
    """SPEC REG-2, CS-2."""
    mappings = default_registry().api_key_env_mappings()
    assert mappings["openai"] == "OPENAI_API_KEY"
    assert mappings["d_id"] == "DID_API_KEY"
    assert mappings["unreal_speech"] == "UNREAL_SPEECH_API_KEY"
    assert mappings["aiml_api"] == "AIML_API_KEY"
    assert mappings["llama_api"] == "LLAMA_API_KEY"
    assert "ollama" not in mappings
    assert "webshare_proxy" not in mappings
    for provider in SYSTEM_CREDENTIAL_PROVIDERS:
        if provider.name not in {"ollama", "webshare_proxy"}:
            assert mappings[provider.name].endswith("_API_KEY")


def test_ayrshare_key_is_mapped_but_never_offered_as_a_system_credential() -> None:
    """SPEC CS-7: Ayrshare's platform key makes managed, per-user profile keys."""
    registry = default_registry()
    assert registry.api_key_env_mappings()["ayrshare"] == "AYRSHARE_API_KEY"
    assert "ayrshare" not in {c.provider for c in registry.default_credentials()}
