"""Helpers the signed schemes share. Every comparison is constant time (`hmac.compare_digest`)
and every failure is `InvalidWebhookSignature`, whose messages never echo a header value."""

import hmac
import re
from collections.abc import Iterable

from pydantic import SecretStr

from integrations.ingress.domain.types import Headers, header
from integrations.providers import InvalidWebhookSignature

DEFAULT_TOLERANCE_SECONDS = 300
_UNIX_SECONDS = re.compile(
    r"[0-9]{1,12}"
)  # not int(): it accepts " 1", "+1", "1_0" and non-ASCII digits


def required_secret(secret: SecretStr | None) -> str:
    """Signed schemes fail closed (SPEC WH-5): no secret, or an empty one, rejects."""
    value = secret.get_secret_value() if secret is not None else ""
    if not value:
        raise InvalidWebhookSignature("The webhook has no secret to verify the request with.")
    return value


def required_header(headers: Headers, name: str) -> str:
    value = header(headers, name)
    if not value:
        raise InvalidWebhookSignature(f"The request has no {name} header.")
    return value


def hmac_sha256(key: bytes, *parts: bytes) -> bytes:
    # The one-shot C function: a third of `hmac.new(...).digest()`'s time.
    return hmac.digest(key, b"".join(parts), "sha256")


def any_matches(expected: bytes, candidates: Iterable[str]) -> bool:
    """Whether one candidate equals `expected` (ASCII text: hex or base64). Non-ASCII candidates
    never match (`compare_digest` refuses non-ASCII str). Every candidate is compared, so the
    time taken does not tell which one matched."""
    matched = False
    for candidate in candidates:
        if candidate.isascii():
            matched |= hmac.compare_digest(expected, candidate.encode("ascii"))
    return matched


def fresh_timestamp(value: str, *, now: float, tolerance: float) -> bytes:
    """The timestamp as signed (ASCII digits) when within `tolerance` of `now`, either way:
    an old one is a replay, one from the future a forged or badly skewed clock."""
    if not _UNIX_SECONDS.fullmatch(value):
        raise InvalidWebhookSignature("The request's signature timestamp is malformed.")
    if abs(now - int(value)) > tolerance:
        raise InvalidWebhookSignature("The request's signature timestamp is outside the window.")
    return value.encode("ascii")


def reject(reason: str = "The request signature does not match.") -> InvalidWebhookSignature:
    return InvalidWebhookSignature(reason)
