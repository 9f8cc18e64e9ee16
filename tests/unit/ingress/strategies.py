"""Hypothesis strategies for requests to ingress, and signing them as each scheme does."""

import base64
import json

from hypothesis import strategies as st

from integrations.providers import WebhookConfig
from tests.unit.ingress.support import (
    NOW,
    REGISTRY,
    github_signature,
    hex_hmac,
    slack_headers,
    standard_headers,
    stripe_signature,
)

CONFIGS = {name: config for name in REGISTRY.names() if (config := REGISTRY.webhook_config(name))}
SIGNED = sorted(name for name, config in CONFIGS.items() if config.signed)
KNOWN_HEADERS = [
    "X-Hub-Signature-256",
    "X-GitHub-Event",
    "X-GitHub-Delivery",
    "Stripe-Signature",
    "Exa-Signature",
    "X-Slack-Signature",
    "X-Slack-Request-Timestamp",
    "webhook-id",
    "webhook-timestamp",
    "webhook-signature",
    "X-Telegram-Bot-Api-Secret-Token",
    "X-Airtable-Content-MAC",
    "Content-Type",
]
header_values = st.one_of(
    st.text(max_size=80),
    st.integers(NOW - 400, NOW + 400).map(str),  # timestamps that pass the window check
    st.sampled_from(["application/json", "application/x-www-form-urlencoded", "v1,", "t=1,v1="]),
    st.text(alphabet="0123456789abcdef", min_size=64, max_size=64).map("sha256=".__add__),
)
headers = st.dictionaries(
    st.one_of(st.sampled_from(KNOWN_HEADERS), st.text(max_size=20)), header_values, max_size=8
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda children: (
            st.lists(children, max_size=4)
            | st.dictionaries(st.text(max_size=10), children, max_size=4)
        ),
        max_leaves=12,
    ).map(lambda value: json.dumps(value).encode()),
)
secrets = st.one_of(
    st.none(), st.text(max_size=40), st.just("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
)


def signed_headers(
    config: WebhookConfig, secret: str, body: bytes, *, at: int = NOW
) -> dict[str, str]:
    """A request correctly signed with `secret` at `at`, under the provider's scheme and
    header."""
    match config.signature_scheme:
        case "github":
            return {"X-Hub-Signature-256": github_signature(secret, body)}
        case "stripe":
            header = config.signature_header or "Stripe-Signature"
            return {header: stripe_signature(secret, body, at)}
        case "slack":
            return slack_headers(secret, body, at)
        case "standard_webhooks":
            return standard_headers([secret], "msg_1", at, body)
        case "telegram":
            return {"X-Telegram-Bot-Api-Secret-Token": secret}
        case _:
            return {config.signature_header or "": hex_hmac(secret.encode(), body)}


def secrets_for(config: WebhookConfig) -> st.SearchStrategy[str]:
    """Secrets a provider can hold: Standard Webhooks keys are base64 (`whsec_...`); Telegram
    tokens are 1-256 of `A-Za-z0-9_-`; the others any text, keyed as UTF-8."""
    keys = st.binary(min_size=1, max_size=32)
    match config.signature_scheme:
        case "standard_webhooks":
            return keys.map(lambda key: "whsec_" + base64.b64encode(key).decode())
        case "telegram":
            return keys.map(lambda key: base64.urlsafe_b64encode(key).decode().rstrip("="))
        case _:
            return st.text(min_size=1, max_size=40)
