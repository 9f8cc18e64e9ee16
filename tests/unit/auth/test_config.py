from typing import Any

import pytest
from pydantic import ValidationError

from integrations.auth import AuthConfig

pytestmark = pytest.mark.unit

SECRET = "x" * 40


def test_secret_mode_accepts_hs256_by_default() -> None:
    assert AuthConfig(jwt_secret=SECRET).accepted_algorithms == {"HS256"}


def test_jwks_mode_accepts_rs256_and_es256_by_default() -> None:
    config = AuthConfig(jwks_url="https://auth.example/.well-known/jwks.json")

    assert config.accepted_algorithms == {"RS256", "ES256"}


def test_the_algorithms_can_be_narrowed() -> None:
    config = AuthConfig(jwks_url="https://auth.example/jwks", algorithms=("ES256",))

    assert config.accepted_algorithms == {"ES256"}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "exactly one of"),
        ({"jwt_secret": SECRET, "jwks_url": "https://a.example/jwks"}, "exactly one of"),
        ({"jwt_secret": "short"}, "jwt_secret must be at least 32 bytes"),
        ({"jwt_secret": SECRET, "service_token": "short"}, "service_token must be at least"),
        ({"jwt_secret": SECRET, "algorithms": ("RS256",)}, "must be among"),
        ({"jwks_url": "https://a.example/jwks", "algorithms": ("HS256",)}, "must be among"),
        ({"jwt_secret": SECRET, "algorithms": ("none",)}, "algorithms"),
        ({"jwt_secret": SECRET, "leeway_seconds": 3600}, "leeway_seconds"),
        ({"jwks_url": "not a url"}, "jwks_url"),
        ({"jwt_secret": SECRET, "surprise": 1}, "surprise"),
    ],
)
def test_rejects_an_unusable_config(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AuthConfig(**fields)


def test_secrets_stay_out_of_reprs_and_validation_errors() -> None:
    service_token = "t" * 8 + "-too-short"
    config = AuthConfig(jwt_secret=SECRET, service_token="y" * 40)

    with pytest.raises(ValidationError) as caught:
        AuthConfig(jwt_secret=SECRET, service_token=service_token)

    assert SECRET not in repr(config)
    assert "y" * 40 not in repr(config)
    assert service_token not in str(caught.value)
    assert SECRET not in str(caught.value)


def test_the_config_is_frozen() -> None:
    config = AuthConfig(jwt_secret=SECRET)

    with pytest.raises(ValidationError):
        config.audience = "changed"  # type: ignore[misc]
