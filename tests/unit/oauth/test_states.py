"""State tokens and PKCE values (SPEC CS-8), and what a state accepts (SPEC CS-9)."""

import re

import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge

from integrations.oauth.domain.states import (
    STATE_TTL_SECONDS,
    hash_token,
    issue_state,
    s256_challenge,
)

pytestmark = pytest.mark.unit

URL_SAFE = re.compile(r"^[A-Za-z0-9_-]+$")


def test_the_token_is_32_random_url_safe_bytes_and_only_its_hash_is_kept() -> None:
    """SPEC CS-8."""
    first = issue_state(user_id="u", provider="p", scopes=(), now=0)
    second = issue_state(user_id="u", provider="p", scopes=(), now=0)

    assert len(first.token) == 43  # base64url of 32 bytes, unpadded
    assert URL_SAFE.match(first.token)
    assert first.token != second.token
    assert first.state.token_hash == hash_token(first.token)
    assert first.token not in first.state.model_dump_json()


def test_the_verifier_is_96_random_url_safe_bytes_and_the_challenge_its_s256() -> None:
    """SPEC CS-8: verifier = 96 url-safe bytes; challenge = base64url(sha256) unpadded."""
    state = issue_state(user_id="u", provider="p", scopes=(), now=0)
    verifier = state.state.code_verifier.get_secret_value()

    assert len(verifier) == 128  # RFC 7636's maximum, all of it random
    assert URL_SAFE.match(verifier)
    assert state.code_challenge == create_s256_code_challenge(verifier)
    assert "=" not in state.code_challenge
    # RFC 7636 appendix B.
    assert (
        s256_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )
    assert verifier not in repr(state.state)


def test_a_state_expires_ten_minutes_after_it_was_issued() -> None:
    """SPEC CS-8, CS-9: expiry is checked in code."""
    state = issue_state(user_id="u", provider="p", scopes=(), now=1000.0).state

    assert STATE_TTL_SECONDS == 600
    assert state.expires_at == 1600.0
    assert not state.is_expired(1599.9)
    assert state.is_expired(1600.0)


def test_a_state_accepts_only_its_token_user_and_provider() -> None:
    """SPEC CS-9: provider-bound, user-bound."""
    issued = issue_state(user_id="u-1", provider="github", scopes=(), now=0)
    state = issued.state

    assert state.accepts(issued.token, user_id="u-1", provider="github")
    assert not state.accepts(issued.token + "x", user_id="u-1", provider="github")
    assert not state.accepts(issued.token, user_id="u-2", provider="github")
    assert not state.accepts(issued.token, user_id="u-1", provider="google")
