"""Providers used with API keys (or a username/password).

Those with a system credential (SPEC CS-2) let every user "use credits": the platform's own key,
read from the env var named here, is listed with each user's credentials. Env var names are
the original's settings names, upper-cased.
"""

# ruff: noqa: S106 - the "secret"/"token"/"password" arguments here name env vars and URLs.

from integrations.providers.provider import Provider, SystemCredentialSpec
from integrations.providers.webhooks import WebhookConfig


def _with_credits(
    name: str,
    title: str,
    api_key_env: str,
    *,
    credential_title: str | None = None,
    webhooks: WebhookConfig | None = None,
) -> Provider:
    return Provider(
        name=name,
        title=title,
        api_key_env=api_key_env,
        system_credential=SystemCredentialSpec(title=credential_title),
        webhooks=webhooks,
    )


SYSTEM_CREDENTIAL_PROVIDERS = (
    # Ollama runs locally and needs no key; the credential exists so blocks can select it.
    Provider(name="ollama", title="Ollama", system_credential=SystemCredentialSpec(always=True)),
    _with_credits("revid", "Revid", "REVID_API_KEY"),
    _with_credits("ideogram", "Ideogram", "IDEOGRAM_API_KEY"),
    _with_credits("replicate", "Replicate", "REPLICATE_API_KEY"),
    _with_credits("openai", "OpenAI", "OPENAI_API_KEY"),
    _with_credits("aiml_api", "AI/ML API", "AIML_API_KEY"),
    _with_credits("anthropic", "Anthropic", "ANTHROPIC_API_KEY"),
    _with_credits("groq", "Groq", "GROQ_API_KEY"),
    # The original's provider name is `d_id` (its setting: `did_api_key`).
    _with_credits("d_id", "D-ID", "DID_API_KEY"),
    _with_credits("jina", "Jina", "JINA_API_KEY"),
    _with_credits("unreal_speech", "Unreal Speech", "UNREAL_SPEECH_API_KEY"),
    _with_credits("open_router", "Open Router", "OPEN_ROUTER_API_KEY"),
    _with_credits("enrichlayer", "Enrichlayer", "ENRICHLAYER_API_KEY"),
    _with_credits("fal", "FAL", "FAL_API_KEY"),
    _with_credits(
        "exa",
        "Exa",
        "EXA_API_KEY",
        credential_title="Use Credits for Exa search",
        # Websets webhooks, registered with the key; Exa signs exactly like Stripe, under its
        # own header.
        webhooks=WebhookConfig(
            mode="auto", signature_scheme="stripe", signature_header="Exa-Signature"
        ),
    ),
    _with_credits("e2b", "E2B", "E2B_API_KEY"),
    _with_credits("nvidia", "Nvidia", "NVIDIA_API_KEY"),
    _with_credits("screenshotone", "ScreenshotOne", "SCREENSHOTONE_API_KEY"),
    _with_credits("mem0", "Mem0", "MEM0_API_KEY"),
    _with_credits("apollo", "Apollo", "APOLLO_API_KEY"),
    _with_credits("smartlead", "SmartLead", "SMARTLEAD_API_KEY"),
    _with_credits("zerobounce", "ZeroBounce", "ZEROBOUNCE_API_KEY"),
    _with_credits("google_maps", "Google Maps", "GOOGLE_MAPS_API_KEY"),
    _with_credits("llama_api", "Llama API", "LLAMA_API_KEY"),
    _with_credits("v0", "v0 by Vercel", "V0_API_KEY"),
    Provider(
        name="webshare_proxy",
        title="Webshare Proxy",
        system_credential=SystemCredentialSpec(
            username_env="WEBSHARE_PROXY_USERNAME", password_env="WEBSHARE_PROXY_PASSWORD"
        ),
    ),
    _with_credits("openweathermap", "OpenWeatherMap", "OPENWEATHERMAP_API_KEY"),
    _with_credits("elevenlabs", "ElevenLabs", "ELEVENLABS_API_KEY"),
)

USER_KEY_PROVIDERS = (
    # Ayrshare's platform key creates per-user profiles whose keys are managed credentials
    # (SPEC CS-7, RT-12): it is never offered to users as a credential of its own.
    Provider(name="ayrshare", title="Ayrshare", api_key_env="AYRSHARE_API_KEY"),
    Provider(name="http", title="HTTP (host-scoped headers)"),
    Provider(name="hubspot", title="HubSpot"),
    Provider(name="medium", title="Medium"),
    Provider(name="pinecone", title="Pinecone"),
    Provider(name="smtp", title="SMTP"),
)
