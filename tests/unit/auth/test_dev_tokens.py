from datetime import timedelta

import pytest
from joserfc import jws
from pydantic import SecretStr

from integrations.auth import AuthConfig, AuthenticationError, build_verifier, issue_dev_token

pytestmark = pytest.mark.unit

SECRET = "d" * 32 + "-dev-secret"


async def test_a_dev_token_verifies_as_its_user() -> None:
    token = issue_dev_token(SECRET, "user-42", timedelta(minutes=5))

    user = await build_verifier(AuthConfig(jwt_secret=SECRET)).verify(token)

    assert user.user_id == "user-42"
    assert user.claims["exp"] - user.claims["iat"] == 300
    assert user.claims["nbf"] == user.claims["iat"]
    assert user.claims["jti"]


async def test_a_dev_token_carries_audience_and_issuer_for_strict_services() -> None:
    config = AuthConfig(jwt_secret=SecretStr(SECRET), audience="aud", issuer="iss")
    assert config.jwt_secret is not None
    token = issue_dev_token(config.jwt_secret, "user-1", audience="aud", issuer="iss")

    assert (await build_verifier(config).verify(token)).user_id == "user-1"


def test_a_dev_token_is_hs256() -> None:
    token = issue_dev_token(SECRET, "user-1")

    assert jws.extract_compact(token.encode()).headers()["alg"] == "HS256"


async def test_an_expired_dev_token_is_rejected() -> None:
    token = issue_dev_token(SECRET, "user-1", timedelta(seconds=60), now=1_000_000)

    with pytest.raises(AuthenticationError, match="expired_token"):
        await build_verifier(AuthConfig(jwt_secret=SECRET)).verify(token)


@pytest.mark.parametrize(
    ("secret", "user_id", "ttl", "message"),
    [
        ("short", "user-1", timedelta(hours=1), "at least 32 bytes"),
        (SECRET, "", timedelta(hours=1), "user_id"),
        (SECRET, "user-1", timedelta(0), "ttl"),
    ],
)
def test_rejects_bad_arguments(secret: str, user_id: str, ttl: timedelta, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        issue_dev_token(secret, user_id, ttl)
