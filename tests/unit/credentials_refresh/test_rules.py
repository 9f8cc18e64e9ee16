"""The pure rules: when to refresh and how fresh tokens merge (SPEC CM-1, CM-3), and the
lease decisions (SPEC CM-2, CM-6)."""

import pytest
from pydantic import SecretStr

from integrations.credentials.domain.credentials import APIKeyCredentials, Credentials
from integrations.credentials.domain.leases import (
    LeaseState,
    Slot,
    claim_needs_renewal,
    is_idle,
    lease_key,
    may_take,
    next_poll_delay,
    released,
    taken,
    with_claim,
)
from integrations.credentials.domain.refresh import (
    RefreshRejected,
    RetryPolicy,
    apply_tokens,
    failed,
    has_expired,
    needs_refresh,
    refreshable,
    retry_due,
    tokens_replaced_since,
)
from integrations.credentials.domain.stored import RefreshState, StoredCredentials
from integrations.providers import OAuthTokens
from tests.unit.credentials_refresh.kit import START, FakeClock, expiring

pytestmark = pytest.mark.unit

NOW = START


def stored(credentials: Credentials) -> StoredCredentials:
    return StoredCredentials(
        user_id="alice", credentials=credentials, version=1, created_at=NOW, updated_at=NOW
    )


@pytest.mark.parametrize(
    ("expires_in", "due"), [(-10, True), (0, True), (299, True), (300, False), (3600, False)]
)
def test_refresh_is_due_when_the_access_token_expires_within_five_minutes(
    expires_in: int, due: bool
) -> None:
    """SPEC CM-1."""
    credentials = expiring(expires_in=expires_in, clock=FakeClock())

    assert needs_refresh(stored(credentials), margin_s=300, now=NOW) is due


def test_credentials_that_never_expire_or_cannot_be_refreshed_are_left_alone() -> None:
    """SPEC CM-1: credentials without expiry are returned as they are."""
    clock = FakeClock()
    never = expiring(clock=clock, access_token_expires_at=None)
    no_refresh_token = expiring(expires_in=-1, clock=clock, refresh_token=None)
    key = APIKeyCredentials(provider="openai", api_key=SecretStr("k"), expires_at=int(NOW))

    for credentials in (never, no_refresh_token, key):
        assert refreshable(credentials) is None
        assert not needs_refresh(stored(credentials), margin_s=300, now=NOW)
        assert not has_expired(stored(credentials), now=NOW)


def test_fresh_tokens_replace_the_old_ones_and_a_rotated_refresh_token_is_kept() -> None:
    """SPEC CM-3: the new refresh token (and its expiry) is stored with the access token."""
    old = expiring(clock=FakeClock(), refresh_token_expires_at=int(NOW + 100))
    tokens = OAuthTokens(
        access_token=SecretStr("access-new"),
        access_token_expires_at=int(NOW + 3600),
        refresh_token=SecretStr("refresh-new"),
        refresh_token_expires_at=int(NOW + 86400),
        scopes=("repo", "gist"),
    )

    fresh = apply_tokens(old, tokens)

    assert fresh.access_token.get_secret_value() == "access-new"
    assert fresh.access_token_expires_at == int(NOW + 3600)
    assert fresh.refresh_token is not None
    assert fresh.refresh_token.get_secret_value() == "refresh-new"
    assert fresh.refresh_token_expires_at == int(NOW + 86400)
    assert fresh.scopes == ["repo", "gist"]
    assert (fresh.id, fresh.title, fresh.username) == (old.id, old.title, old.username)


def test_the_old_refresh_token_stays_when_the_provider_returns_none() -> None:
    """SPEC CM-3."""
    old = expiring(clock=FakeClock(), refresh_token_expires_at=int(NOW + 100))

    fresh = apply_tokens(old, OAuthTokens(access_token=SecretStr("access-new")))

    assert fresh.refresh_token == old.refresh_token
    assert fresh.refresh_token_expires_at == old.refresh_token_expires_at
    assert fresh.scopes == old.scopes


def test_tokens_count_as_replaced_only_when_the_grant_changed() -> None:
    spent = expiring(clock=FakeClock())

    assert not tokens_replaced_since(spent.model_copy(update={"title": "x"}), spent)
    assert tokens_replaced_since(spent.model_copy(update={"refresh_token": SecretStr("r")}), spent)
    assert tokens_replaced_since(spent.model_copy(update={"access_token": SecretStr("a")}), spent)


def test_failures_count_up_and_back_off_exponentially() -> None:
    policy = RetryPolicy(initial_s=30, max_s=100)
    once = failed(RefreshState(), RefreshRejected("boom"), now=NOW)
    twice = failed(once, RefreshRejected("boom again"), now=NOW)

    assert (once.attempts, twice.attempts, twice.last_error) == (1, 2, "boom again")
    assert retry_due(RefreshState(), policy, now=NOW)
    assert not retry_due(once, policy, now=NOW + 29)
    assert retry_due(once, policy, now=NOW + 30)
    assert not retry_due(twice, policy, now=NOW + 59)
    assert retry_due(twice, policy, now=NOW + 60)
    assert policy.delay_after(10) == 100


def test_a_refused_grant_is_retried_only_after_the_longest_backoff() -> None:
    policy = RetryPolicy(initial_s=30, max_s=3600)
    refused = failed(RefreshState(), RefreshRejected("invalid_grant", reauthorize=True), now=NOW)

    assert refused.reauthorize
    assert not retry_due(refused, policy, now=NOW + 3599)
    assert retry_due(refused, policy, now=NOW + 3600)


def test_failure_reasons_are_bounded() -> None:
    assert (
        len(failed(RefreshState(), RefreshRejected("x" * 10_000), now=NOW).last_error or "") == 512
    )


def test_lease_keys_never_collide_across_users_ids_and_slots() -> None:
    keys = {
        lease_key("a/b", "c", Slot.USE),
        lease_key("a", "b/c", Slot.USE),
        lease_key("a", "b/c", Slot.REFRESH),
        lease_key("a#use", "b", Slot.USE),
    }
    assert len(keys) == 4


def test_a_held_lease_cannot_be_taken_until_it_expires() -> None:
    """SPEC CM-2, CM-6."""
    state = taken(LeaseState("k", 1), lease_id="a", purpose="use", ttl_s=30, now=NOW, waiter=None)

    assert not may_take(state, priority=True, now=NOW + 29)
    assert may_take(state, priority=False, now=NOW + 30)
    assert next_poll_delay(state, backoff_s=60, now=NOW + 20) == 10


def test_a_live_priority_claim_holds_back_plain_acquirers_only() -> None:
    """SPEC CM-2: waiting acquirers queue behind refreshes and updates."""
    claimed = with_claim(LeaseState("k", 1), "refresher", claim_ttl_s=5, now=NOW)

    assert not may_take(claimed, priority=False, now=NOW)
    assert may_take(claimed, priority=True, now=NOW)
    assert may_take(claimed, priority=False, now=NOW + 5)  # the claim lapsed
    assert not is_idle(claimed, now=NOW)
    assert is_idle(claimed, now=NOW + 5)


def test_taking_withdraws_the_takers_claim_and_drops_lapsed_ones() -> None:
    state = with_claim(LeaseState("k", 1), "old", claim_ttl_s=1, now=NOW)
    state = with_claim(state, "mine", claim_ttl_s=5, now=NOW)
    state = with_claim(state, "other", claim_ttl_s=5, now=NOW)

    after = taken(state, lease_id="L", purpose="refresh", ttl_s=30, now=NOW + 2, waiter="mine")

    assert dict(after.waiters) == {"other": NOW + 5}
    assert released(after, now=NOW + 2).holder is None


def test_claims_are_renewed_at_half_life() -> None:
    state = with_claim(LeaseState("k", 1), "w", claim_ttl_s=4, now=NOW)

    assert not claim_needs_renewal(state, "w", claim_ttl_s=4, now=NOW + 1.9)
    assert claim_needs_renewal(state, "w", claim_ttl_s=4, now=NOW + 2.1)
    assert claim_needs_renewal(state, "someone-else", claim_ttl_s=4, now=NOW)
