import asyncio
import base64
import hmac
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc import jwt
from joserfc.jwk import ECKey, Key, RSAKey

from integrations.auth import (
    AuthConfig,
    AuthenticationError,
    JWKSKeySource,
    JWTVerifier,
    KeysUnavailable,
    build_verifier,
)

pytestmark = pytest.mark.unit

JWKS_URL = "https://auth.example/.well-known/jwks.json"
NOW = 1_750_000_000


def rsa_key(kid: str) -> RSAKey:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RSAKey.import_key(_pem(private), parameters={"kid": kid})


def ec_key(kid: str) -> ECKey:
    return ECKey.import_key(_pem(ec.generate_private_key(ec.SECP256R1())), parameters={"kid": kid})


def _pem(private: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> bytes:
    return private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


RSA_1 = rsa_key("rsa-1")
RSA_2 = rsa_key("rsa-2")
EC_1 = ec_key("ec-1")


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "user-7", "iat": NOW - 5, "exp": NOW + 300, **extra}


def sign(key: Key, alg: str, kid: str | None = None, **payload: Any) -> str:
    header = {"alg": alg, "kid": key.kid if kid is None else kid}
    return jwt.encode(header, claims(**payload), key, algorithms=[alg])


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class FakeIssuer:
    """The issuer's JWKS endpoint, behind httpx's MockTransport."""

    def __init__(self, *keys: Key) -> None:
        self.keys = list(keys)
        self.requests = 0
        self.failing = False
        self.clients: list[httpx.AsyncClient] = []

    def publish(self, *keys: Key) -> None:
        self.keys = list(keys)

    async def handler(self, request: httpx.Request) -> httpx.Response:
        assert str(request.url) == JWKS_URL
        self.requests += 1
        await asyncio.sleep(0)  # a real fetch yields: let concurrent requests pile up
        if self.failing:
            return httpx.Response(503)
        return httpx.Response(200, json={"keys": [key.as_dict(private=False) for key in self.keys]})

    def client(self) -> httpx.AsyncClient:
        self.clients.append(httpx.AsyncClient(transport=httpx.MockTransport(self.handler)))
        return self.clients[-1]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def issuer() -> AsyncIterator[FakeIssuer]:
    issuer = FakeIssuer(RSA_1, EC_1)
    yield issuer
    for client in issuer.clients:
        await client.aclose()


@pytest.fixture
def make_verifier(issuer: FakeIssuer, clock: Clock) -> Callable[..., JWTVerifier]:
    def make(algorithms: tuple[str, ...] = ("RS256", "ES256"), **source: Any) -> JWTVerifier:
        keys = JWKSKeySource(JWKS_URL, issuer.client(), clock=clock, **source)
        return JWTVerifier(keys, algorithms=algorithms, clock=lambda: NOW)

    return make


async def test_verifies_an_rs256_token_with_a_key_from_the_jwks(
    make_verifier: Callable[..., JWTVerifier],
) -> None:
    user = await make_verifier().verify(sign(RSA_1, "RS256"))

    assert user.user_id == "user-7"


async def test_verifies_an_es256_token_with_a_key_from_the_jwks(
    make_verifier: Callable[..., JWTVerifier],
) -> None:
    assert (await make_verifier().verify(sign(EC_1, "ES256"))).user_id == "user-7"


async def test_the_jwks_is_cached_between_requests(
    make_verifier: Callable[..., JWTVerifier], issuer: FakeIssuer
) -> None:
    verifier = make_verifier()

    for _ in range(3):
        await verifier.verify(sign(RSA_1, "RS256"))

    assert issuer.requests == 1


async def test_the_jwks_is_refetched_after_its_ttl(
    make_verifier: Callable[..., JWTVerifier], issuer: FakeIssuer, clock: Clock
) -> None:
    verifier = make_verifier(ttl_seconds=60)
    await verifier.verify(sign(RSA_1, "RS256"))

    clock.now = 61
    await verifier.verify(sign(RSA_1, "RS256"))

    assert issuer.requests == 2


async def test_an_unknown_kid_triggers_one_refetch_that_finds_a_rotated_key(
    make_verifier: Callable[..., JWTVerifier], issuer: FakeIssuer, clock: Clock
) -> None:
    verifier = make_verifier(cooldown_seconds=30)
    await verifier.verify(sign(RSA_1, "RS256"))

    issuer.publish(RSA_2, RSA_1)
    clock.now = 31
    user = await verifier.verify(sign(RSA_2, "RS256"))

    assert user.user_id == "user-7"
    assert issuer.requests == 2


async def test_unknown_kids_refetch_at_most_once_per_cooldown(
    make_verifier: Callable[..., JWTVerifier], issuer: FakeIssuer, clock: Clock
) -> None:
    verifier = make_verifier(cooldown_seconds=30)
    await verifier.verify(sign(RSA_1, "RS256"))
    clock.now = 31

    for kid in ("made-up-1", "made-up-2", "made-up-3"):
        with pytest.raises(AuthenticationError) as caught:
            await verifier.verify(sign(RSA_1, "RS256", kid=kid))
        assert caught.value.reason == "invalid_token"

    assert issuer.requests == 2


async def test_a_token_signed_by_an_unpublished_key_with_a_known_kid_is_invalid(
    make_verifier: Callable[..., JWTVerifier],
) -> None:
    impostor = rsa_key("rsa-1")

    with pytest.raises(AuthenticationError, match="invalid_token"):
        await make_verifier().verify(sign(impostor, "RS256"))


async def test_an_hs256_token_is_rejected_when_rs256_is_expected(
    make_verifier: Callable[..., JWTVerifier],
) -> None:
    # The classic confusion: HMAC over the token with the issuer's public key as the secret.
    public_pem = RSA_1.as_pem(private=False)
    header = b64(json.dumps({"alg": "HS256", "kid": "rsa-1"}).encode())
    signing_input = f"{header}.{b64(json.dumps(claims()).encode())}"
    signature = b64(hmac.digest(public_pem, signing_input.encode(), "sha256"))

    with pytest.raises(AuthenticationError, match="invalid_token"):
        await make_verifier(algorithms=("RS256",)).verify(f"{signing_input}.{signature}")


async def test_an_algorithm_not_matching_the_key_type_is_rejected(
    make_verifier: Callable[..., JWTVerifier],
) -> None:
    # An ES256 header naming an RSA key must not find that key.
    header = b64(json.dumps({"alg": "ES256", "kid": "rsa-1"}).encode())
    token = f"{header}.{b64(json.dumps(claims()).encode())}.{b64(b'x' * 64)}"

    with pytest.raises(AuthenticationError, match="invalid_token"):
        await make_verifier().verify(token)


async def test_an_es256_token_is_rejected_when_only_rs256_is_allowed(
    make_verifier: Callable[..., JWTVerifier],
) -> None:
    with pytest.raises(AuthenticationError, match="invalid_token"):
        await make_verifier(algorithms=("RS256",)).verify(sign(EC_1, "ES256"))


async def test_symmetric_keys_in_a_jwks_are_ignored(clock: Clock) -> None:
    secret = b"k" * 32
    document = {
        "keys": [{"kty": "oct", "kid": "shared", "k": b64(secret)}, {"kty": "weird"}, "junk"]
    }
    transport = httpx.MockTransport(lambda _: httpx.Response(200, json=document))
    async with httpx.AsyncClient(transport=transport) as client:
        source = JWKSKeySource(JWKS_URL, client, clock=clock)

        with pytest.raises(AuthenticationError, match="invalid_token"):
            await source.key_for("shared", "HS256")


async def test_a_token_without_kid_uses_the_only_fitting_key(
    make_verifier: Callable[..., JWTVerifier], issuer: FakeIssuer
) -> None:
    token = jwt.encode({"alg": "ES256"}, claims(), EC_1, algorithms=["ES256"])

    assert (await make_verifier().verify(token)).user_id == "user-7"

    issuer.publish(RSA_1, RSA_2)
    unkeyed = jwt.encode({"alg": "RS256"}, claims(), RSA_1, algorithms=["RS256"])
    with pytest.raises(AuthenticationError, match="invalid_token"):
        await make_verifier().verify(unkeyed)


async def test_an_unreachable_jwks_makes_keys_unavailable(
    make_verifier: Callable[..., JWTVerifier], issuer: FakeIssuer
) -> None:
    issuer.failing = True

    with pytest.raises(KeysUnavailable):
        await make_verifier().verify(sign(RSA_1, "RS256"))


async def test_cached_keys_keep_working_while_the_jwks_is_down(
    make_verifier: Callable[..., JWTVerifier], issuer: FakeIssuer, clock: Clock
) -> None:
    verifier = make_verifier(ttl_seconds=60)
    await verifier.verify(sign(RSA_1, "RS256"))

    issuer.failing = True
    clock.now = 120

    assert (await verifier.verify(sign(RSA_1, "RS256"))).user_id == "user-7"
    assert issuer.requests == 2


async def test_a_failed_fetch_is_not_retried_before_the_cooldown(
    make_verifier: Callable[..., JWTVerifier], issuer: FakeIssuer, clock: Clock
) -> None:
    issuer.failing = True
    verifier = make_verifier(cooldown_seconds=30)
    for _ in range(3):
        with pytest.raises(KeysUnavailable):
            await verifier.verify(sign(RSA_1, "RS256"))
    assert issuer.requests == 1

    issuer.failing = False
    clock.now = 31

    assert (await verifier.verify(sign(RSA_1, "RS256"))).user_id == "user-7"


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="not json"),
        httpx.Response(200, json=["keys"]),
        httpx.Response(200, json={"keys": "none"}),
        httpx.Response(404),
    ],
)
async def test_a_broken_jwks_document_makes_keys_unavailable(
    response: httpx.Response, clock: Clock
) -> None:
    async with httpx.AsyncClient(transport=httpx.MockTransport(lambda _: response)) as client:
        source = JWKSKeySource(JWKS_URL, client, clock=clock)

        with pytest.raises(KeysUnavailable):
            await source.key_for("rsa-1", "RS256")


async def test_concurrent_requests_share_one_fetch(
    make_verifier: Callable[..., JWTVerifier], issuer: FakeIssuer
) -> None:
    verifier = make_verifier()

    await asyncio.gather(*(verifier.verify(sign(RSA_1, "RS256")) for _ in range(5)))

    assert issuer.requests == 1


async def test_built_from_config_it_fetches_with_the_given_client(issuer: FakeIssuer) -> None:
    config = AuthConfig(jwks_url=JWKS_URL, audience="integrations")
    verifier = build_verifier(config, issuer.client())
    token = jwt.encode(
        {"alg": "RS256", "kid": "rsa-1"},
        {"sub": "user-7", "aud": "integrations", "exp": 4_000_000_000},
        RSA_1,
        algorithms=["RS256"],
    )

    assert (await verifier.verify(token)).user_id == "user-7"
    assert JWKS_URL in repr(verifier)
