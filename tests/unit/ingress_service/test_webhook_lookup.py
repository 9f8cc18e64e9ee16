"""The view first, then one read-through call per id, remembered in bounded caches."""

import asyncio

import pytest

from integrations.contracts import WebhookState
from integrations.ingress.adapters.ttl_cache import TtlCache
from integrations.ingress.adapters.webhook_lookup import ViewWithReadThrough
from integrations.ingress.handlers import WebhookLookupUnavailable
from tests.unit.ingress_service.fixtures import webhook

pytestmark = pytest.mark.unit


class Owner:
    """A fake credentials service: counts calls, may hold them until released."""

    def __init__(self, *known: WebhookState) -> None:
        self.known = {w.webhook_id: w for w in known}
        self.calls: list[str] = []
        self.release = asyncio.Event()
        self.release.set()
        self.error: Exception | None = None

    async def fetch(self, webhook_id: str) -> WebhookState | None:
        self.calls.append(webhook_id)
        await self.release.wait()
        if self.error is not None:
            raise self.error
        return self.known.get(webhook_id)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def lookup(
    view: dict[str, WebhookState], owner: Owner, clock: Clock | None = None, in_flight: int = 8
) -> ViewWithReadThrough:
    clock = clock or Clock()
    return ViewWithReadThrough(
        view,
        owner,
        found=TtlCache(max_entries=100, ttl_s=60, clock=clock),
        not_found=TtlCache(max_entries=100, ttl_s=15, clock=clock),
        max_in_flight=in_flight,
    )


async def test_a_view_hit_never_calls_credentials() -> None:
    owner, known = Owner(), webhook()
    assert await lookup({"wh-1": known}, owner).find("wh-1") is known
    assert owner.calls == []


async def test_a_miss_asks_once_and_remembers_the_answer() -> None:
    owner = Owner(webhook("wh-new"))
    webhooks = lookup({}, owner)

    first = await webhooks.find("wh-new")
    again = await webhooks.find("wh-new")

    assert first is not None
    assert again is first
    assert owner.calls == ["wh-new"]


async def test_an_unknown_id_is_remembered_briefly() -> None:
    owner, clock = Owner(), Clock()
    webhooks = lookup({}, owner, clock)

    assert await webhooks.find("bogus") is None
    assert await webhooks.find("bogus") is None
    assert owner.calls == ["bogus"]
    clock.now = 16
    assert await webhooks.find("bogus") is None
    assert owner.calls == ["bogus", "bogus"]


async def test_the_view_wins_over_a_remembered_miss() -> None:
    view: dict[str, WebhookState] = {}
    webhooks = lookup(view, Owner())
    assert await webhooks.find("wh-late") is None

    view["wh-late"] = webhook("wh-late")  # the topic brought it

    assert await webhooks.find("wh-late") == view["wh-late"]


async def test_concurrent_misses_for_one_id_share_one_call() -> None:
    owner = Owner(webhook("wh-new"))
    owner.release.clear()
    webhooks = lookup({}, owner)

    waiting = [asyncio.create_task(webhooks.find("wh-new")) for _ in range(20)]
    await asyncio.sleep(0)
    owner.release.set()
    found = await asyncio.gather(*waiting)

    assert owner.calls == ["wh-new"]
    assert all(state is not None and state.webhook_id == "wh-new" for state in found)


async def test_too_many_distinct_misses_at_once_are_refused_not_queued() -> None:
    owner = Owner()
    owner.release.clear()
    webhooks = lookup({}, owner, in_flight=2)
    held = [asyncio.create_task(webhooks.find(f"bogus-{n}")) for n in range(2)]
    await asyncio.sleep(0)

    with pytest.raises(WebhookLookupUnavailable):
        await webhooks.find("bogus-3")

    owner.release.set()
    assert await asyncio.gather(*held) == [None, None]
    assert owner.calls == ["bogus-0", "bogus-1"]


async def test_a_failed_call_is_shared_and_not_remembered() -> None:
    owner = Owner(webhook("wh-1"))
    owner.error = WebhookLookupUnavailable("credentials answered 503")
    owner.release.clear()
    webhooks = lookup({}, owner)

    waiting = [asyncio.create_task(webhooks.find("wh-1")) for _ in range(3)]
    await asyncio.sleep(0)
    owner.release.set()
    outcomes = await asyncio.gather(*waiting, return_exceptions=True)
    assert all(isinstance(outcome, WebhookLookupUnavailable) for outcome in outcomes)

    owner.error = None
    assert await webhooks.find("wh-1") is not None
    assert owner.calls == ["wh-1", "wh-1"]


async def test_a_waiter_that_gives_up_does_not_cancel_the_call_for_others() -> None:
    owner = Owner(webhook("wh-1"))
    owner.release.clear()
    webhooks = lookup({}, owner)
    first = asyncio.create_task(webhooks.find("wh-1"))
    await asyncio.sleep(0)
    impatient = asyncio.create_task(webhooks.find("wh-1"))
    await asyncio.sleep(0)

    impatient.cancel()
    owner.release.set()

    assert (await first) is not None
    with pytest.raises(asyncio.CancelledError):
        await impatient


async def test_the_caches_stay_bounded_under_a_flood_of_ids() -> None:
    owner = Owner()
    not_found: TtlCache[str, bool] = TtlCache(max_entries=50, ttl_s=60)
    webhooks = ViewWithReadThrough(
        {}, owner, found=TtlCache(max_entries=50, ttl_s=60), not_found=not_found, max_in_flight=8
    )

    for n in range(500):
        await webhooks.find(f"bogus-{n}")

    assert len(not_found) == 50
