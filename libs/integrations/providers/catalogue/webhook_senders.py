"""Providers that trigger workflows with webhooks (GitHub and Exa are declared with their
other capabilities). Users authenticate to them with their own keys, if at all."""

from integrations.providers.provider import Provider
from integrations.providers.webhooks import WebhookConfig

GENERIC_WEBHOOK = Provider(
    name="generic_webhook",
    title="Generic webhook",
    webhooks=WebhookConfig(mode="manual", signature_scheme="none", webhook_types=("plain",)),
)

# Not in the original: the signed counterpart of generic_webhook, for any sender that follows
# the Standard Webhooks specification (standardwebhooks.com).
STANDARD_WEBHOOK = Provider(
    name="standard_webhook",
    title="Standard Webhooks sender",
    webhooks=WebhookConfig(
        mode="manual",
        signature_scheme="standard_webhooks",
        delivery_id_header="webhook-id",
        webhook_types=("plain",),
    ),
)

SLACK = Provider(
    name="slack",
    title="Slack",
    # The user pastes the ingress URL as the Slack app's request URL, and the app's signing
    # secret into the platform.
    webhooks=WebhookConfig(mode="manual", signature_scheme="slack"),
)

STRIPE = Provider(
    name="stripe",
    title="Stripe",
    # Registered with the user's API key; Stripe returns the signing secret only then.
    webhooks=WebhookConfig(mode="auto", signature_scheme="stripe", webhook_types=("account",)),
)

TELEGRAM = Provider(
    name="telegram",
    title="Telegram",
    # setWebhook with the bot token; Telegram echoes our secret in a header. One webhook per
    # bot: a change of events re-registers in place.
    webhooks=WebhookConfig(mode="auto", signature_scheme="telegram", webhook_types=("bot",)),
)

COMPASS = Provider(
    name="compass",
    title="Compass",
    webhooks=WebhookConfig(
        mode="manual", signature_scheme="none", webhook_types=("transcription", "task")
    ),
)

SLANT3D = Provider(
    name="slant3d",
    title="Slant 3D",
    # Slant 3D signs nothing and offers no deregistration endpoint.
    webhooks=WebhookConfig(mode="auto", signature_scheme="none"),
)

AIRTABLE = Provider(
    name="airtable",
    title="Airtable",
    # `hmac-sha256=<hex>` keyed with the base64-decoded MAC secret Airtable returns at creation.
    webhooks=WebhookConfig(
        mode="auto", signature_scheme="hmac_sha256", signature_header="X-Airtable-Content-MAC"
    ),
)

WEBHOOK_PROVIDERS = (
    GENERIC_WEBHOOK,
    STANDARD_WEBHOOK,
    SLACK,
    STRIPE,
    TELEGRAM,
    COMPASS,
    SLANT3D,
    AIRTABLE,
)
