"""Telegram: no signature; `setWebhook` was given our secret and Telegram echoes it in
`X-Telegram-Bot-Api-Secret-Token`, compared in constant time. An update is one object with an
`update_id` (unique per bot, hence scoped by webhook in the event id) and exactly one other
field naming its kind; for messages the content kind is appended (`message.text`)."""

import time
from collections.abc import Mapping

from pydantic import SecretStr

from integrations.ingress.domain.payloads import json_object
from integrations.ingress.domain.schemes._signing import (
    any_matches,
    reject,
    required_header,
    required_secret,
)
from integrations.ingress.domain.schemes.base import DeliveryFacts
from integrations.ingress.domain.types import Clock
from integrations.providers import InvalidWebhookPayload, SignatureScheme

SIGNATURE_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_MESSAGE_KINDS = frozenset(
    {"message", "edited_message", "channel_post", "edited_channel_post", "business_message"}
)
# Checked in this order: a photo with a caption is a photo, not text.
_CONTENT_KINDS = (
    "text",
    "photo",
    "video",
    "animation",
    "audio",
    "voice",
    "video_note",
    "document",
    "sticker",
    "location",
    "venue",
    "contact",
    "poll",
    "dice",
)


class TelegramScheme:
    def __init__(self, *, signature_header: str | None = None, clock: Clock = time.time) -> None:
        self._signature_header = (
            signature_header or SIGNATURE_HEADER
        )  # no clock: Telegram is untimed

    @property
    def scheme(self) -> SignatureScheme:
        return "telegram"

    @property
    def kept_headers(self) -> frozenset[str]:
        return frozenset()

    def verify(self, *, headers: Mapping[str, str], body: bytes, secret: SecretStr | None) -> None:
        expected = required_secret(secret).encode("utf-8")
        if not any_matches(expected, [required_header(headers, self._signature_header)]):
            raise reject("The secret token does not match.")

    def read(self, *, headers: Mapping[str, str], body: bytes, webhook_type: str) -> DeliveryFacts:
        payload = json_object(body)
        update_id = payload.get("update_id")
        # bool is an int in Python; `true` is not an update id.
        if not isinstance(update_id, int) or isinstance(update_id, bool):
            raise InvalidWebhookPayload("The update has no update_id.")
        kind = next((k for k, v in payload.items() if k != "update_id" and v is not None), None)
        event_type = kind or "update"
        content = payload.get(kind) if kind in _MESSAGE_KINDS else None
        if isinstance(content, dict):
            content_kind = next((c for c in _CONTENT_KINDS if c in content), None)
            if content_kind:
                event_type = f"{kind}.{content_kind}"
        return DeliveryFacts(payload=payload, event_type=event_type, delivery_id=str(update_id))
