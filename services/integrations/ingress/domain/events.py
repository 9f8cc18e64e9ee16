"""A verified request → the facts of a `WebhookEventReceived` (SPEC WH-5, DESIGN §4 Ingress).

Event ids. The provider's delivery id is the event id when it sends one, so its retries of a
delivery dedupe in the dispatcher. Such ids are only unique per sender (Telegram's `update_id`
counts per bot; a Standard Webhooks sender picks its own `webhook-id`), so consumers key them
by webhook id, as the dispatcher's processed-events store and request ids do. Ids that do not
fit the contract (whitespace, over 256 characters) are replaced by `sha256:<hex of the id>`.

Providers that send no id (generic webhooks, Compass, Slant 3D, Airtable) get
`sha256:<hex of provider, webhook id and body>`: deterministic, so a retry of the same delivery
still dedupes where a random id would run the workflows twice. The price is that two
byte-identical deliveries to one webhook count as one; real event bodies carry their own
timestamps or ids, so we accept it.
"""

import hashlib
import re
from dataclasses import dataclass

from integrations.ingress.domain.types import JsonObject, header
from integrations.ingress.domain.verification import VerifiedRequest
from integrations.providers import InvalidWebhookPayload

MAX_EVENT_ID_LENGTH = 256  # contracts.types.EventId
MAX_EVENT_TYPE_LENGTH = 256  # contracts.types.EventType
_PRINTABLE_ID = re.compile(r"[\x21-\x7e]+")

_ALWAYS_KEPT = frozenset({"user-agent", "content-type"})
# Whatever a scheme or a declaration says, these never reach an event: they authenticate.
_NEVER_KEPT = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "x-hub-signature",
        "x-hub-signature-256",
        "stripe-signature",
        "x-slack-signature",
        "webhook-signature",
        "x-telegram-bot-api-secret-token",
    }
)


@dataclass(frozen=True, kw_only=True, slots=True)
class ParsedDelivery:
    event_id: str
    event_type: str
    payload: JsonObject
    headers: dict[str, str]  # the allow-listed delivery headers, names lowercased
    delivery_id: str | None  # as the provider sent it; event_id unless that had to be hashed
    challenge: str | None = None

    @property
    def is_handshake(self) -> bool:
        """Slack's url_verification: answer `challenge`, publish nothing."""
        return self.challenge is not None


def parse_delivery(verified: VerifiedRequest) -> ParsedDelivery:
    """Parse the verified body with its scheme. Raises `InvalidWebhookPayload` (400)."""
    facts = verified.scheme.read(
        headers=verified.headers, body=verified.body, webhook_type=verified.webhook_type
    )
    if not facts.event_type or len(facts.event_type) > MAX_EVENT_TYPE_LENGTH:
        raise InvalidWebhookPayload("The delivery's event type is empty or too long.")
    delivery_id = _declared_delivery_id(verified) or facts.delivery_id or None
    return ParsedDelivery(
        event_id=_event_id(verified, delivery_id),
        event_type=facts.event_type,
        payload=facts.payload,
        headers=kept_headers(verified),
        delivery_id=delivery_id,
        challenge=facts.challenge,
    )


def kept_headers(verified: VerifiedRequest) -> dict[str, str]:
    allowed = _ALWAYS_KEPT | verified.scheme.kept_headers
    if verified.config.delivery_id_header:
        allowed |= {verified.config.delivery_id_header.lower()}
    refused = _NEVER_KEPT | {(verified.config.signature_header or "").lower()}
    return {
        name: value
        for name, value in verified.headers.items()
        if name in allowed and name not in refused
    }


def _declared_delivery_id(verified: VerifiedRequest) -> str | None:
    name = verified.config.delivery_id_header
    return (header(verified.headers, name) or None) if name else None


def _event_id(verified: VerifiedRequest, delivery_id: str | None) -> str:
    if delivery_id is None:
        provider, webhook_id = verified.provider.encode(), verified.webhook_id.encode()
        return f"sha256:{_sha256(provider, webhook_id, verified.body)}"
    if _PRINTABLE_ID.fullmatch(delivery_id) and len(delivery_id) <= MAX_EVENT_ID_LENGTH:
        return delivery_id
    return f"sha256:{_sha256(delivery_id.encode('utf-8', 'surrogatepass'))}"


def _sha256(*parts: bytes) -> str:
    # Length-prefixed, so ("ab", "c") and ("a", "bc") hash differently.
    digest = hashlib.sha256()
    for part in parts:
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()
