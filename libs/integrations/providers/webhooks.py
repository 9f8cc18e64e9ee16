"""Webhooks: a provider's declaration (data) and the interfaces of the code behind it.

`WebhookManager` implementations (register/deregister/ping with the provider, parse a
delivery) come with the credentials service; `WebhookVerifier`s, one per signature scheme, with
the ingress service. Both only see the small value types below, never a service's own models.
"""

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, Protocol, get_args

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from integrations.providers.errors import PingNotSupported, ProviderError

WebhookMode = Literal["auto", "manual"]
"""`auto`: the platform registers the webhook with the provider (SPEC WH-2).
`manual`: the user pastes the ingress URL into the provider (SPEC WH-3)."""

SignatureScheme = Literal[
    "github",  # X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>
    "stripe",  # t=<ts>,v1=<hex HMAC-SHA256 of "{t}.{body}">, replay window
    "slack",  # v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">, replay window
    "standard_webhooks",  # webhook-id/-timestamp/-signature, base64 HMAC, replay window
    "telegram",  # a shared secret token echoed in a header, compared in constant time
    "hmac_sha256",  # hex HMAC-SHA256 of the body in a provider-named header
    "none",  # unsigned: any request is accepted (SPEC WH-5)
]
SIGNATURE_SCHEMES: tuple[SignatureScheme, ...] = get_args(SignatureScheme)


@dataclass(frozen=True, kw_only=True, slots=True)
class WebhookConfig:
    mode: WebhookMode
    signature_scheme: SignatureScheme
    # None: the scheme's usual header. Set when a provider reuses a scheme under its own
    # header name (Exa signs like Stripe in `Exa-Signature`).
    signature_header: str | None = None
    # A header carrying the provider's unique delivery id, used as the event id so a retried
    # delivery is recognised (DESIGN, ingress).
    delivery_id_header: str | None = None
    webhook_types: tuple[str, ...] = ()  # empty: the provider does not restrict the type

    def __post_init__(self) -> None:
        if self.signature_scheme not in SIGNATURE_SCHEMES:
            raise ValueError(f"unknown signature scheme {self.signature_scheme!r}")
        if self.signature_scheme == "hmac_sha256" and not self.signature_header:
            raise ValueError("the hmac_sha256 scheme needs the provider's signature_header")

    @property
    def signed(self) -> bool:
        return self.signature_scheme != "none"


class WebhookRef(Protocol):
    """The fields of a stored webhook (SPEC WH-1) that provider code reads. The credentials
    service's model and the ingress view both satisfy it."""

    @property
    def id(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def webhook_type(self) -> str: ...
    @property
    def resource(self) -> str: ...
    @property
    def events(self) -> Sequence[str]: ...
    @property
    def config(self) -> Mapping[str, Any]: ...
    @property
    def secret(self) -> SecretStr: ...
    @property
    def provider_webhook_id(self) -> str: ...


class ProviderAuth(BaseModel):
    """The one secret a manager needs to call the provider on the user's behalf: an OAuth
    access token, an API key or a bot token, taken from the user's credential."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    credentials_id: str
    token: SecretStr


class WebhookRegistration(BaseModel):
    """What the provider answered to a registration (SPEC WH-2); manual webhooks register
    nothing: `provider_webhook_id=""`, `config={}` (SPEC WH-3)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider_webhook_id: str = ""
    config: dict[str, Any] = Field(default_factory=dict)


class WebhookManager(ABC):
    """One provider's webhooks. `PROVIDER_NAME` may be left `None`: the registry then hands
    out a subclass bound to the registering provider's name (SPEC REG-3)."""

    PROVIDER_NAME: ClassVar[str | None] = None

    def __init__(self, *, http: httpx.AsyncClient) -> None:
        self.http = http

    @property
    def provider(self) -> str:
        if self.PROVIDER_NAME is None:
            raise ProviderError(f"{type(self).__qualname__} is not bound to a provider")
        return self.PROVIDER_NAME

    @abstractmethod
    async def validate_payload(
        self, webhook: WebhookRef, headers: Mapping[str, str], body: bytes
    ) -> tuple[dict[str, Any], str]:
        """(payload, event_type) of one delivery (SPEC WH-5). `headers` must look names up
        case-insensitively (httpx/Starlette headers do). Raises `InvalidWebhookPayload` or
        `InvalidWebhookSignature`."""

    @abstractmethod
    async def register(
        self,
        *,
        auth: ProviderAuth | None,
        webhook_type: str,
        resource: str,
        events: Sequence[str],
        ingress_url: str,
        secret: SecretStr,
    ) -> WebhookRegistration: ...

    @abstractmethod
    async def deregister(self, webhook: WebhookRef, auth: ProviderAuth | None) -> None:
        """A webhook the provider no longer knows counts as deregistered (SPEC WH-4)."""

    async def trigger_ping(self, webhook: WebhookRef, auth: ProviderAuth | None) -> None:
        """Ask the provider to send a ping delivery (SPEC WH-6)."""
        raise PingNotSupported(self.provider)


class WebhookVerifier(Protocol):
    """Checks one signature scheme over the raw body. Signed schemes fail closed: a missing
    secret is a rejection, never a pass (SPEC WH-5)."""

    @property
    def scheme(self) -> SignatureScheme: ...

    def verify(self, *, headers: Mapping[str, str], body: bytes, secret: SecretStr | None) -> None:
        """Returns when the request is authentic; raises `InvalidWebhookSignature` otherwise."""
