from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from integrations.providers import (
    PingNotSupported,
    ProviderError,
    ProviderRegistry,
    WebhookConfig,
    WebhookRef,
)
from integrations.providers.webhooks import SIGNATURE_SCHEMES

from .test_registry import AnonymousManager, example

pytestmark = pytest.mark.unit


@dataclass(frozen=True)
class StoredWebhook:
    """A service's own webhook model; it satisfies `WebhookRef` structurally."""

    id: str = "wh-1"
    provider: str = "example"
    webhook_type: str = "plain"
    resource: str = ""
    events: list[str] = field(default_factory=lambda: ["plain"])
    config: dict[str, Any] = field(default_factory=dict)
    secret: SecretStr = field(default_factory=lambda: SecretStr("whsec"))
    provider_webhook_id: str = ""


STORED: WebhookRef = StoredWebhook()  # checked by mypy: a service model fits the protocol


def no_network() -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(lambda request: httpx.Response(599)))


async def test_a_provider_that_cannot_ping_says_so() -> None:
    """SPEC WH-6: providers that cannot ping raise "not implemented"."""
    registry = ProviderRegistry(
        [
            example(
                webhooks=WebhookConfig(mode="manual", signature_scheme="none"),
                webhook_manager=AnonymousManager,
            )
        ]
    )
    manager_class = registry.webhook_manager("example")
    assert manager_class is not None

    async with no_network() as http:
        manager = manager_class(http=http)
        with pytest.raises(PingNotSupported) as raised:
            await manager.trigger_ping(STORED, None)
        registration = await manager.register(
            auth=None,
            webhook_type="plain",
            resource="",
            events=["plain"],
            ingress_url="https://platform.test/api/integrations/example/webhooks/wh-1/ingress",
            secret=SecretStr("s"),
        )

    assert isinstance(raised.value, NotImplementedError)
    assert raised.value.provider == "example"
    assert registration.provider_webhook_id == ""
    assert registration.config == {}


async def test_an_unbound_manager_does_not_pretend_to_know_its_provider() -> None:
    """SPEC REG-3: only the registry gives an undeclared manager its name."""
    async with no_network() as http:
        manager = AnonymousManager(http=http)
        with pytest.raises(ProviderError, match="not bound"):
            _ = manager.provider


def test_signature_schemes_are_a_closed_vocabulary() -> None:
    """SPEC WH-5: signed providers name their scheme; `none` is the only unsigned one."""
    assert set(SIGNATURE_SCHEMES) == {
        "github", "stripe", "slack", "standard_webhooks", "telegram", "hmac_sha256", "none",
    }  # fmt: skip
    assert WebhookConfig(mode="auto", signature_scheme="github").signed
    with pytest.raises(ValueError, match="unknown signature scheme"):
        WebhookConfig(mode="auto", signature_scheme="md5")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="signature_header"):
        WebhookConfig(mode="auto", signature_scheme="hmac_sha256")
