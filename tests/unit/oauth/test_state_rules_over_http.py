"""CS-9 through the callback route: reuse, expiry, another provider's or user's state, and
two concurrent callbacks with one state."""

import asyncio

import pytest

from integrations.contracts import topics

from .kit import running_service

pytestmark = pytest.mark.unit


class Clock:
    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


async def test_a_used_state_is_refused() -> None:
    """SPEC CS-9: single use."""
    async with running_service() as service:
        login = await service.login("user-1")
        code, state = await service.authorize(login.json()["login_url"])
        first = await service.callback("user-1", code, state)
        second = await service.callback("user-1", code, state)

    assert first.status_code == 200
    assert second.status_code == 400
    assert second.json()["error"] == {
        "code": "invalid_state",
        "message": "Invalid or expired state token.",
    }


async def test_an_expired_state_is_refused_though_it_is_still_stored() -> None:
    """SPEC CS-9: expiry checked in code, not left to a TTL index."""
    clock = Clock()
    async with running_service(clock=clock) as service:
        login = await service.login("user-1")
        code, state = await service.authorize(login.json()["login_url"])
        clock.now += 600
        response = await service.callback("user-1", code, state)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_state"
    assert service.credentials.stored == {}


async def test_a_state_a_minute_short_of_expiry_still_works() -> None:
    clock = Clock()
    async with running_service(clock=clock) as service:
        login = await service.login("user-1")
        code, state = await service.authorize(login.json()["login_url"])
        clock.now += 540
        response = await service.callback("user-1", code, state)

    assert response.status_code == 200


async def test_another_providers_state_is_refused_and_left_for_its_own_callback() -> None:
    """SPEC CS-9: provider-bound."""
    async with running_service() as service:
        login = await service.login("user-1")
        code, state = await service.authorize(login.json()["login_url"])
        crossed = await service.callback("user-1", code, state, provider="otherauth")
        own = await service.callback("user-1", code, state)

    assert crossed.status_code == 400
    assert crossed.json()["error"]["code"] == "invalid_state"
    assert own.status_code == 200


async def test_another_users_state_is_refused_and_left_for_its_owner() -> None:
    """SPEC CS-9: user-bound."""
    async with running_service() as service:
        login = await service.login("user-1")
        code, state = await service.authorize(login.json()["login_url"])
        stolen = await service.callback("user-2", code, state)
        own = await service.callback("user-1", code, state)

    assert stolen.status_code == 400
    assert own.status_code == 200
    assert own.json()["id"] in service.credentials.stored


async def test_of_two_concurrent_callbacks_exactly_one_succeeds() -> None:
    """SPEC CS-9: single use even under concurrent callbacks."""
    async with running_service() as service:
        login = await service.login("user-1")
        code, state = await service.authorize(login.json()["login_url"])
        responses = await asyncio.gather(
            service.callback("user-1", code, state), service.callback("user-1", code, state)
        )
        commands = [r for p in service.bus.log_of(topics.CREDENTIALS_COMMANDS) for r in p]

    assert sorted(r.status_code for r in responses) == [200, 400]
    assert len(commands) == 1
    assert len(service.provider.token_requests) == 1  # the loser never reached the provider
