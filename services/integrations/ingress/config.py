from typing import Self

from pydantic import Field, SecretStr, model_validator

from integrations.contracts import topic_spec, topics
from integrations.runtime.settings import CommonSettings

MIB = 1024 * 1024

# What a `WebhookEventReceived` adds around the payload: ids, event type, kept headers,
# CloudEvents and trace headers. The re-encoded payload is never larger than the body
# (compact JSON, UTF-8 unescaped), so body limit + this must fit the topic's records.
ENVELOPE_ALLOWANCE_BYTES = 256 * 1024


class IngressSettings(CommonSettings):
    webhook_secret_keys: SecretStr | None = Field(
        default=None,
        description="Key ring for webhook secrets only: a derived `webhook-secrets/...` ring "
        "(ingress never holds the root keys), or a root ring in the embedded default.",
    )
    max_body_bytes: int = Field(
        default=5 * MIB, gt=0, description="Largest webhook body accepted; larger gets 413."
    )
    credentials_internal_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Base URL of the credentials service, for read-through webhook lookups.",
    )
    webhook_lookup_timeout_s: float = Field(
        default=2.0,
        gt=0,
        description="Budget of the one read-through call to credentials on a view miss.",
    )
    webhook_lookup_concurrency: int = Field(
        default=8,
        gt=0,
        description="Read-through calls in flight at once; beyond it a miss answers 503, so "
        "a flood of unknown ids cannot pile up on the credentials service.",
    )
    webhook_lookup_cache_size: int = Field(
        default=10_000,
        gt=0,
        description="Entries in each read-through cache (found, not found) and in the cache "
        "of decrypted webhook secrets: bounds memory.",
    )
    webhook_secret_cache_ttl_s: float = Field(
        default=3600.0,
        gt=0,
        description="How long a decrypted webhook secret stays cached (a rotated secret is a "
        "new entry at once; this bounds how long a plaintext stays in memory).",
    )
    webhook_found_ttl_s: float = Field(
        default=60.0,
        gt=0,
        description="How long a webhook learnt by read-through is trusted before the view "
        "has it (a prune it missed meanwhile costs at most this long).",
    )
    webhook_not_found_ttl_s: float = Field(
        default=15.0,
        gt=0,
        description="How long an id credentials did not know answers 404 without asking.",
    )
    retry_after_s: int = Field(
        default=5,
        gt=0,
        description="Retry-After of a 503 (broker or credentials unavailable).",
    )

    @model_validator(mode="after")
    def _body_limit_fits_the_topic(self) -> Self:
        # A body we accept but the broker refuses would be a 500 on every retry.
        topic_limit = topic_spec(topics.WEBHOOK_EVENTS).max_message_bytes
        if topic_limit is not None and self.max_body_bytes + ENVELOPE_ALLOWANCE_BYTES > topic_limit:
            raise ValueError(
                f"max_body_bytes must leave {ENVELOPE_ALLOWANCE_BYTES} bytes of room under "
                f"the {topics.WEBHOOK_EVENTS} record limit of {topic_limit} bytes"
            )
        return self
