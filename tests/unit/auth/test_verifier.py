import base64
import hmac
import json
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from integrations.auth import (
    AuthConfig,
    AuthenticationError,
    AuthenticationReason,
    JWTVerifier,
    StaticKeySource,
    build_verifier,
)

pytestmark = pytest.mark.unit

SECRET = "s" * 32 + "-hs256-test-secret"
OTHER_SECRET = "o" * 32 + "-another-secret"
NOW = 1_750_000_000


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"sub": "user-1", "iat": NOW - 10, "exp": NOW + 600}
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def hs256(payload: dict[str, Any], secret: str = SECRET, **header: Any) -> str:
    key = OctKey.import_key(secret.encode())
    return jwt.encode({"alg": "HS256", **header}, payload, key, algorithms=["HS256"])


def hand_signed(header: dict[str, Any], payload: dict[str, Any]) -> str:
    """A correctly HMAC-signed token with whatever header joserfc would refuse to write."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = hmac.digest(SECRET.encode(), signing_input.encode(), "sha256")
    return f"{signing_input}.{b64(signature)}"


def verifier(**config: Any) -> JWTVerifier:
    return JWTVerifier(
        StaticKeySource(SECRET.encode()),
        algorithms=config.pop("algorithms", ["HS256"]),
        clock=lambda: NOW,
        **config,
    )


async def rejected(token: str, verifier: JWTVerifier) -> AuthenticationReason:
    with pytest.raises(AuthenticationError) as caught:
        await verifier.verify(token)
    return caught.value.reason


async def test_a_valid_hs256_token_yields_its_subject_and_claims() -> None:
    user = await verifier().verify(hs256(claims(role="admin")))

    assert user.user_id == "user-1"
    assert user.claims["role"] == "admin"


async def test_the_user_is_immutable() -> None:
    user = await verifier().verify(hs256(claims()))

    with pytest.raises(AttributeError):
        user.user_id = "someone-else"  # type: ignore[misc]
    with pytest.raises(TypeError):
        user.claims["sub"] = "someone-else"  # type: ignore[index]


async def test_a_token_signed_with_another_secret_is_invalid() -> None:
    assert await rejected(hs256(claims(), secret=OTHER_SECRET), verifier()) == "invalid_token"


async def test_a_token_with_an_altered_payload_is_invalid() -> None:
    header, _, signature = hs256(claims()).split(".")
    forged = b64(json.dumps(claims(sub="admin")).encode())

    assert await rejected(f"{header}.{forged}.{signature}", verifier()) == "invalid_token"


@pytest.mark.parametrize("token", ["", "abc", "a.b", "a.b.c", "a.b.c.d.e", "ü.ü.ü"])
async def test_garbage_is_an_invalid_token(token: str) -> None:
    assert await rejected(token, verifier()) == "invalid_token"


async def test_an_expired_token_is_rejected_as_expired() -> None:
    token = hs256(claims(iat=NOW - 3600, exp=NOW - 60))

    assert await rejected(token, verifier(leeway_seconds=30)) == "expired_token"


async def test_a_token_expired_within_the_leeway_is_accepted() -> None:
    token = hs256(claims(exp=NOW - 10))

    assert (await verifier(leeway_seconds=30).verify(token)).user_id == "user-1"


async def test_a_token_not_yet_valid_is_rejected() -> None:
    token = hs256(claims(nbf=NOW + 600))

    assert await rejected(token, verifier(leeway_seconds=30)) == "invalid_claims"


async def test_a_token_issued_in_the_future_is_rejected() -> None:
    token = hs256(claims(iat=NOW + 600))

    assert await rejected(token, verifier(leeway_seconds=30)) == "invalid_claims"


@pytest.mark.parametrize("missing", ["sub", "exp"])
async def test_a_token_without_subject_or_expiry_is_rejected(missing: str) -> None:
    token = hs256(claims(**{missing: None}))

    assert await rejected(token, verifier()) == "invalid_claims"


@pytest.mark.parametrize("sub", ["", 42, ["user-1"]])
async def test_a_subject_must_be_a_non_empty_string(sub: object) -> None:
    assert await rejected(hs256(claims(sub=sub)), verifier()) == "invalid_claims"


async def test_the_audience_must_match_when_configured() -> None:
    strict = verifier(audience="integrations")

    assert (await strict.verify(hs256(claims(aud="integrations")))).user_id == "user-1"
    assert (await strict.verify(hs256(claims(aud=["other", "integrations"])))).user_id
    assert await rejected(hs256(claims(aud="billing")), strict) == "invalid_audience"
    assert await rejected(hs256(claims()), strict) == "invalid_audience"


async def test_the_issuer_must_match_when_configured() -> None:
    strict = verifier(issuer="https://auth.example")

    assert (await strict.verify(hs256(claims(iss="https://auth.example")))).user_id
    assert await rejected(hs256(claims(iss="https://evil.example")), strict) == "invalid_issuer"


async def test_audience_and_issuer_are_ignored_when_not_configured() -> None:
    token = hs256(claims(aud="anything", iss="anyone"))

    assert (await verifier().verify(token)).user_id == "user-1"


@pytest.mark.parametrize("alg", ["none", "None", "NONE"])
async def test_an_unsigned_token_is_always_rejected(alg: str) -> None:
    header = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    payload = b64(json.dumps(claims()).encode())
    lenient = verifier(algorithms=["HS256", "none"])

    for token in (f"{header}.{payload}.", f"{header}.{payload}.{b64(b'x')}"):
        assert await rejected(token, lenient) == "invalid_token"


async def test_an_algorithm_outside_the_allow_list_is_rejected() -> None:
    key = OctKey.import_key(SECRET.encode())
    token = jwt.encode({"alg": "HS512"}, claims(), key, algorithms=["HS512"])

    assert await rejected(token, verifier()) == "invalid_token"


async def test_a_token_with_a_critical_extension_is_rejected() -> None:
    token = hand_signed({"alg": "HS256", "b64": True, "crit": ["b64"]}, claims())

    assert await rejected(token, verifier()) == "invalid_token"


@pytest.mark.parametrize("header", [{"alg": "HS256", "kid": 7}, {"alg": ["HS256"]}, {"alg": 1}])
async def test_odd_header_values_are_rejected(header: dict[str, Any]) -> None:
    assert await rejected(hand_signed(header, claims()), verifier()) == "invalid_token"


async def test_the_hand_signing_helper_makes_acceptable_tokens() -> None:
    token = hand_signed({"alg": "HS256", "kid": "any"}, claims())

    assert (await verifier().verify(token)).user_id == "user-1"


async def test_built_from_config_it_verifies_with_the_real_clock() -> None:
    built = build_verifier(AuthConfig(jwt_secret=SECRET, audience="integrations"))
    now = int(time.time())

    user = await built.verify(hs256(claims(iat=now, exp=now + 60, aud="integrations")))

    assert user.user_id == "user-1"
    assert SECRET not in repr(built)


def test_jwks_mode_needs_an_http_client() -> None:
    with pytest.raises(ValueError, match="AsyncClient"):
        build_verifier(AuthConfig(jwks_url="https://auth.example/jwks.json"))
