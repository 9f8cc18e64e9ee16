"""The scheme is chosen by the provider's declaration (SPEC WH-5), for every provider the
catalogue declares, and every signed one fails closed without a secret."""

import pytest

from integrations.ingress.domain.verification import SCHEMES, scheme_for
from integrations.providers import InvalidWebhookSignature, SignatureScheme, WebhookConfig
from integrations.providers.webhooks import SIGNATURE_SCHEMES
from tests.unit.ingress.support import NOW, REGISTRY, verify

pytestmark = pytest.mark.unit

WEBHOOK_PROVIDERS = sorted(
    name for name in REGISTRY.names() if REGISTRY.webhook_config(name) is not None
)


def test_every_signature_scheme_has_a_verifier() -> None:
    assert set(SCHEMES) == set(SIGNATURE_SCHEMES)


@pytest.mark.parametrize("provider", WEBHOOK_PROVIDERS)
def test_each_provider_gets_the_scheme_it_declares(provider: str) -> None:
    config = REGISTRY.webhook_config(provider)
    assert config is not None
    assert scheme_for(config).scheme == config.signature_scheme


@pytest.mark.parametrize(
    "provider", [p for p in WEBHOOK_PROVIDERS if (c := REGISTRY.webhook_config(p)) and c.signed]
)
@pytest.mark.parametrize("secret", [None, ""])
def test_every_signed_provider_fails_closed_without_a_secret(
    provider: str, secret: str | None
) -> None:
    """SPEC WH-5: signed providers fail closed when their secret is missing."""
    with pytest.raises(InvalidWebhookSignature):
        verify(provider, headers={}, body=b"{}", secret=secret)


@pytest.mark.parametrize("scheme", [s for s in SIGNATURE_SCHEMES if s != "none"])
def test_every_signed_scheme_refuses_a_request_without_headers(scheme: SignatureScheme) -> None:
    config = WebhookConfig(mode="manual", signature_scheme=scheme, signature_header="X-Sig")
    with pytest.raises(InvalidWebhookSignature):
        verify("any", config=config, headers={}, body=b"{}", secret="whsec_c2VjcmV0", now=NOW)


def test_the_verified_request_keeps_lowercased_headers_and_the_raw_body() -> None:
    verified = verify(
        "generic_webhook",
        headers={"X-Thing": "1"},
        body=b'{"a":1}',
        secret=None,
        webhook_type="plain",
    )
    assert verified.headers == {"x-thing": "1"}
    assert verified.body == b'{"a":1}'
    assert (verified.provider, verified.webhook_id, verified.webhook_type) == (
        "generic_webhook",
        "wh-1",
        "plain",
    )
