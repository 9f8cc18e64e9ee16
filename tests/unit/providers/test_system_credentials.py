import uuid

import pytest

from integrations.providers import (
    Provider,
    ProviderRegistry,
    SystemAPIKeyCredential,
    SystemCredentialSpec,
    SystemUserPasswordCredential,
    is_system_credential,
    is_system_provider,
    system_credential_id,
    system_credentials,
)
from integrations.providers.system_credentials import PLACEHOLDER_API_KEY

pytestmark = pytest.mark.unit

OPENAI_KEY = "sk-test-openai-0123456789"
WEBSHARE = {"WEBSHARE_PROXY_USERNAME": "proxy-user", "WEBSHARE_PROXY_PASSWORD": "proxy-pass-42"}


def by_provider(env: dict[str, str]) -> dict[str, object]:
    return {c.provider: c for c in system_credentials(env)}


def test_ollama_is_offered_even_when_nothing_is_configured() -> None:
    """SPEC CS-2: ollama always."""
    credentials = system_credentials({})

    assert [c.provider for c in credentials] == ["ollama"]
    ollama = credentials[0]
    assert isinstance(ollama, SystemAPIKeyCredential)
    assert ollama.api_key.get_secret_value() == PLACEHOLDER_API_KEY
    assert ollama.title == "Use Credits for Ollama"


def test_a_provider_is_offered_exactly_when_its_key_is_configured() -> None:
    """SPEC CS-2: one per provider whose API key is in the environment."""
    env = {"OPENAI_API_KEY": OPENAI_KEY, "DID_API_KEY": "did-key", "GROQ_API_KEY": ""}

    credentials = by_provider(env)

    assert set(credentials) == {"ollama", "openai", "d_id"}
    openai = credentials["openai"]
    assert isinstance(openai, SystemAPIKeyCredential)
    assert openai.api_key.get_secret_value() == OPENAI_KEY
    assert openai.title == "Use Credits for OpenAI"
    assert openai.expires_at is None


def test_every_cs2_provider_is_offered_when_everything_is_configured() -> None:
    """SPEC CS-2: the whole list, from catalogue data."""
    api_key_vars = [
        "REVID", "IDEOGRAM", "GROQ", "REPLICATE", "OPENAI", "AIML", "ANTHROPIC", "DID", "JINA",
        "UNREAL_SPEECH", "OPEN_ROUTER", "ENRICHLAYER", "FAL", "EXA", "E2B", "NVIDIA",
        "SCREENSHOTONE", "MEM0", "APOLLO", "SMARTLEAD", "ZEROBOUNCE", "GOOGLE_MAPS", "LLAMA",
        "V0", "OPENWEATHERMAP", "ELEVENLABS",
    ]  # fmt: skip
    env = {**WEBSHARE, **{f"{prefix}_API_KEY": "k" for prefix in api_key_vars}}

    credentials = system_credentials(env)

    assert len(credentials) == 28
    assert len({c.id for c in credentials}) == 28
    assert credentials[0].provider == "ollama"


def test_webshare_needs_both_username_and_password() -> None:
    """SPEC CS-2: webshare_proxy is a username+password credential."""
    assert "webshare_proxy" not in by_provider({"WEBSHARE_PROXY_USERNAME": "proxy-user"})
    assert "webshare_proxy" not in by_provider({"WEBSHARE_PROXY_PASSWORD": "proxy-pass-42"})

    webshare = by_provider(WEBSHARE)["webshare_proxy"]

    assert isinstance(webshare, SystemUserPasswordCredential)
    assert webshare.type == "user_password"
    assert webshare.username.get_secret_value() == "proxy-user"
    assert webshare.password.get_secret_value() == "proxy-pass-42"


def test_ids_are_stable_and_derived_from_the_provider_name() -> None:
    """SPEC CS-2: stable ids. These literals must never change: users' graphs store them."""
    ids = {c.provider: c.id for c in system_credentials({"OPENAI_API_KEY": OPENAI_KEY})}

    assert ids == {
        "ollama": "488a8ad8-b73e-568c-ba02-3bef0e10f62a",
        "openai": "f65e08d1-2313-51df-9427-a6b6768235f5",
    }
    assert system_credential_id("openai") == ids["openai"]
    assert uuid.UUID(ids["openai"]).version == 5
    assert system_credentials({"OPENAI_API_KEY": "another-key"})[1].id == ids["openai"]


def test_secrets_never_show_unless_revealed_on_purpose() -> None:
    """SPEC CS-2 and RT-14: repr, str and JSON dumps mask the secret."""
    env = {"OPENAI_API_KEY": OPENAI_KEY, **WEBSHARE}

    for credential in system_credentials(env):
        for shown in (repr(credential), str(credential), credential.model_dump_json()):
            assert OPENAI_KEY not in shown
            assert "proxy-pass-42" not in shown
            assert "proxy-user" not in shown

    openai = by_provider(env)["openai"]
    assert isinstance(openai, SystemAPIKeyCredential)
    assert openai.api_key.get_secret_value() == OPENAI_KEY


def test_system_ids_and_providers_are_recognised_whether_configured_or_not() -> None:
    """SPEC CS-2: `is_system_credential(id)`, `is_system_provider(name)`."""
    assert is_system_credential(system_credential_id("anthropic"))
    assert is_system_credential(system_credential_id("webshare_proxy"))
    assert not is_system_credential(system_credential_id("github"))
    assert not is_system_credential(str(uuid.uuid4()))
    assert is_system_provider("ollama")
    assert is_system_provider("elevenlabs")
    assert not is_system_provider("github")
    assert not is_system_provider("ayrshare")
    assert not is_system_provider("nope")


def test_a_registry_of_ones_own_decides_what_is_offered() -> None:
    """SPEC CS-2: the mapping is registry data, not per-provider code."""
    registry = ProviderRegistry(
        [
            Provider(
                name="acme",
                title="ACME",
                api_key_env="ACME_TOKEN",
                system_credential=SystemCredentialSpec(title="Platform ACME"),
            )
        ]
    )

    assert system_credentials({"OPENAI_API_KEY": OPENAI_KEY}, registry) == []
    [acme] = system_credentials({"ACME_TOKEN": "t"}, registry)
    assert acme.title == "Platform ACME"
    assert is_system_provider("acme", registry)
    assert not is_system_provider("ollama", registry)
    assert is_system_credential(system_credential_id("acme"), registry)
