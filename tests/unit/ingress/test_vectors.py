"""The published vectors (shared/test-vectors/signatures.json) pass the verifiers as they are.
SPEC WH-5."""

import base64
import json
from typing import Any

import pytest

from integrations.providers import InvalidWebhookSignature
from tests.unit.ingress.support import (
    VECTORS_COPY,
    VECTORS_SHARED,
    hex_hmac,
    standard_signature,
    stripe_signature,
    vectors,
    verify,
)

pytestmark = pytest.mark.unit


@pytest.mark.skipif(not VECTORS_SHARED.exists(), reason="no shared folder beside the repository")
def test_the_copied_vectors_equal_the_shared_file() -> None:
    assert json.loads(VECTORS_COPY.read_text()) == json.loads(VECTORS_SHARED.read_text())


def test_the_github_docs_vector_verifies() -> None:
    """SPEC WH-5: GitHub's own example delivery."""
    v = vectors()["github_docs"]
    verify(
        "github", headers={v["header"]: v["expected"]}, body=v["body"].encode(), secret=v["secret"]
    )


def test_the_github_docs_vector_fails_with_another_secret() -> None:
    v = vectors()["github_docs"]
    with pytest.raises(InvalidWebhookSignature):
        verify("github", headers={v["header"]: v["expected"]}, body=v["body"].encode(), secret="x")


def _slack_headers(v: dict[str, Any]) -> dict[str, str]:
    timestamp_header, signature_header = v["headers"]
    return {timestamp_header: v["timestamp"], signature_header: v["expected"]}


@pytest.mark.parametrize("offset", [0, 299, -299])
def test_the_slack_docs_vector_verifies_inside_its_window(offset: int) -> None:
    """SPEC WH-5: Slack's documented slash-command request."""
    v = vectors()["slack_docs"]
    verify(
        "slack",
        headers=_slack_headers(v),
        body=v["body"].encode(),
        secret=v["signing_secret"],
        now=int(v["timestamp"]) + offset,
    )


@pytest.mark.parametrize("offset", [301, -301])
def test_the_slack_docs_vector_is_stale_outside_its_window(offset: int) -> None:
    v = vectors()["slack_docs"]
    assert v["tolerance_seconds"] == 300
    with pytest.raises(InvalidWebhookSignature):
        verify(
            "slack",
            headers=_slack_headers(v),
            body=v["body"].encode(),
            secret=v["signing_secret"],
            now=int(v["timestamp"]) + offset,
        )


def _standard_headers(v: dict[str, Any], signature: str) -> dict[str, str]:
    id_header, timestamp_header, signature_header = v["headers"]
    return {id_header: v["msg_id"], timestamp_header: v["timestamp"], signature_header: signature}


def test_the_standard_webhooks_reference_vector_verifies() -> None:
    """SPEC WH-5: the reference library's test_sign_function vector."""
    v = vectors()["standard_webhooks"]
    verify(
        "standard_webhook",
        headers=_standard_headers(v, v["expected"]),
        body=v["body"].encode(),
        secret=v["secret"],
        now=int(v["timestamp"]),
    )


def test_the_standard_webhooks_vector_verifies_among_rotated_signatures() -> None:
    v = vectors()["standard_webhooks"]
    other = standard_signature("whsec_" + "QUJD" * 8, v["msg_id"], int(v["timestamp"]), b"x")
    verify(
        "standard_webhook",
        headers=_standard_headers(v, f"{other} {v['expected']}"),
        body=v["body"].encode(),
        secret=v["secret"],
        now=int(v["timestamp"]),
    )


def test_the_test_signers_reproduce_the_published_signatures() -> None:
    """Keeps the signers the other tests use honest."""
    github, standard = vectors()["github_docs"], vectors()["standard_webhooks"]
    assert (
        "sha256=" + hex_hmac(github["secret"].encode(), github["body"].encode())
        == (github["expected"])
    )
    signature = standard_signature(
        standard["secret"],
        standard["msg_id"],
        int(standard["timestamp"]),
        standard["body"].encode(),
    )
    assert signature == standard["expected"]


def test_stripe_keys_with_the_whole_whsec_string_not_its_base64_decoding() -> None:
    """SPEC WH-5, per the stripe_scheme entry: the key is the UTF-8 `whsec_...` string."""
    v = vectors()["stripe_scheme"]
    assert v["only_scheme_counted"] == "v1"
    secret, body, now = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", b'{"id":"evt_1"}', 1_614_265_330
    verify(
        "stripe",
        headers={"Stripe-Signature": stripe_signature(secret, body, now)},
        body=body,
        secret=secret,
        now=now,
    )
    decoded_key_signature = hex_hmac(
        base64.b64decode(secret.removeprefix("whsec_")), f"{now}.".encode() + body
    )
    with pytest.raises(InvalidWebhookSignature):
        verify(
            "stripe",
            headers={"Stripe-Signature": f"t={now},v1={decoded_key_signature}"},
            body=body,
            secret=secret,
            now=now,
        )
