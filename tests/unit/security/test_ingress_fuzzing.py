"""Arbitrary deliveries to ingress over HTTP, to a webhook of every provider (SPEC WH-5,
RT-7, RT-14): whatever the body and headers, signed with the webhook's secret or not, the
answer is a documented status, never an unhandled 500, and every error is in the one shape.
Correctly signed deliveries are never refused as unsigned (403).

Ingress's OpenAPI document describes no request body (the route reads it raw), so the
Schemathesis suite cannot send one; this one does."""

import json
import re
import time
from collections.abc import Iterator
from typing import Final

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.python import asgi

from integrations.ingress.config import IngressSettings
from integrations.web.errors import ErrorBody
from tests.unit.ingress.strategies import CONFIGS, bodies, headers, signed_headers
from tests.unit.security.apps import (
    OPENAPI_FOLDER,
    OPERATIONS,
    WEBHOOK_PROVIDERS,
    WEBHOOK_SECRET,
    known_webhook_id,
    service_app,
)

pytestmark = pytest.mark.unit

INGRESS: Final = next(operation for operation in OPERATIONS if operation.path.endswith("/ingress"))
_DOCUMENT: Final = json.loads((OPENAPI_FOLDER / "ingress.json").read_text())
DOCUMENTED: Final = {
    int(status) for status in _DOCUMENT["paths"][INGRESS.path]["post"]["responses"]
}
_TOKEN: Final = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_VALUE: Final = re.compile(r"(\S[^\r\n]*)?")


def _sendable(request_headers: dict[str, str]) -> dict[str, str]:
    """What HTTP can carry: token names, latin-1 values without line breaks or leading
    blanks (the client refuses to send anything else)."""
    return {
        name: value
        for name, value in request_headers.items()
        if _TOKEN.fullmatch(name)
        and name.lower() not in ("content-length", "host", "transfer-encoding")
        and _VALUE.fullmatch(value)
        and all(ord(c) < 256 and c != "\0" for c in value)
    }


@pytest.fixture(scope="module")
def client() -> Iterator[requests.Session]:
    app = service_app("ingress")
    try:
        with asgi.get_client(app.app) as session:  # type: ignore[arg-type]
            yield session
    finally:
        asgi.shutdown_lifespans()


@settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    provider=st.sampled_from(WEBHOOK_PROVIDERS),
    request_headers=headers,
    body=st.one_of(bodies, st.binary(max_size=2048)),
    signed=st.booleans(),
)
def test_any_delivery_gets_a_documented_answer_and_a_signed_one_is_never_refused_as_unsigned(
    client: requests.Session,
    provider: str,
    request_headers: dict[str, str],
    body: bytes,
    signed: bool,
) -> None:
    sent = _sendable(request_headers)
    signed = signed and CONFIGS[provider].signed
    if signed:
        signature = signed_headers(CONFIGS[provider], WEBHOOK_SECRET, body, at=int(time.time()))
        sent = {k: v for k, v in sent.items() if k.lower() not in _lowered(signature)}
        sent |= signature
    url = f"/api/integrations/{provider}/webhooks/{known_webhook_id(provider)}/ingress"
    response = client.post(url, data=body, headers=sent)
    described = f"{provider} {sent} {body[:80]!r} -> {response.status_code} {response.text[:300]}"
    assert response.status_code in DOCUMENTED, described
    if signed:
        assert response.status_code != 403, described
    if response.status_code >= 400:
        error = ErrorBody.model_validate(response.json()).error
        assert error.code != "internal_error", described


def _lowered(names: dict[str, str]) -> set[str]:
    return {name.lower() for name in names}


@pytest.mark.parametrize("provider", WEBHOOK_PROVIDERS)
def test_a_body_over_the_limit_is_a_413_in_the_error_shape(
    client: requests.Session, provider: str
) -> None:
    url = f"/api/integrations/{provider}/webhooks/{known_webhook_id(provider)}/ingress"
    limit = IngressSettings.model_fields["max_body_bytes"].default
    response = client.post(url, data=b"{" * (limit + 1))
    assert response.status_code == 413, response.text
    assert ErrorBody.model_validate(response.json()).error.code == "payload_too_large"
