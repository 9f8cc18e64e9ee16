import pytest

from integrations.ingress.adapters.ttl_cache import TtlCache

pytestmark = pytest.mark.unit


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_entry_is_forgotten_after_its_ttl() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(max_entries=10, ttl_s=5, clock=clock)
    cache.put("a", 1)
    clock.now = 4.9
    assert cache.get("a") == 1
    clock.now = 5.0
    assert cache.get("a") is None
    assert len(cache) == 0


def test_the_least_recently_used_entry_is_evicted_first() -> None:
    cache: TtlCache[str, int] = TtlCache(max_entries=2, ttl_s=60)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert ("a" in cache, "b" in cache, "c" in cache) == (True, False, True)


def test_discard_and_bounds() -> None:
    cache: TtlCache[str, int] = TtlCache(max_entries=1, ttl_s=1)
    cache.put("a", 1)
    cache.discard("a")
    cache.discard("missing")
    assert len(cache) == 0
    with pytest.raises(ValueError):
        TtlCache(max_entries=0, ttl_s=1)
