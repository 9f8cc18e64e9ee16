"""Send the command, wait for its own confirmation (DESIGN §4)."""

from datetime import UTC, datetime

import pytest

from integrations.bus import InMemoryBus, Record
from integrations.contracts import (
    CredentialsCreated,
    CredentialsUpdated,
    StoreOAuthCredentials,
    topics,
)
from integrations.oauth.adapters.credentials_writer import BusCredentialsWriter
from integrations.oauth.domain.errors import ConfirmationTimeout

pytestmark = pytest.mark.unit


def command(credentials_id: str = "cred-1") -> StoreOAuthCredentials:
    return StoreOAuthCredentials(
        user_id="user-1",
        credentials_id=credentials_id,
        provider="github",
        scopes=["repo"],
        access_token_ciphertext="v1.k1.ciphertext",
        access_token_expires_at=datetime(2030, 1, 1, tzinfo=UTC),
    )


def created(credentials_id: str, user_id: str = "user-1") -> CredentialsCreated:
    return CredentialsCreated(
        user_id=user_id,
        credentials_id=credentials_id,
        provider="github",
        credentials_type="oauth2",
        scopes=["repo"],
    )


async def test_only_the_matching_confirmation_ends_the_wait() -> None:
    bus = InMemoryBus()

    async def credentials(record: Record) -> None:
        # Noise first: other credentials, another user, another event type.
        await bus.publish(topics.CREDENTIALS_EVENTS, created("cred-other"), source="/t")
        await bus.publish(topics.CREDENTIALS_EVENTS, created("cred-1", "user-2"), source="/t")
        updated = CredentialsUpdated(
            user_id="user-1", credentials_id="cred-1", provider="github", credentials_type="oauth2"
        )
        await bus.publish(topics.CREDENTIALS_EVENTS, updated, source="/t")
        await bus.publish(topics.CREDENTIALS_EVENTS, created("cred-1"), source="/t")

    bus.subscribe(topics.CREDENTIALS_COMMANDS, credentials, group="credentials")
    await bus.start()
    try:
        confirmation = await BusCredentialsWriter(bus, timeout_s=2).store(command())
    finally:
        await bus.stop()

    assert confirmation == created("cred-1")


async def test_without_a_confirmation_it_times_out_after_publishing() -> None:
    bus = InMemoryBus()
    await bus.start()
    try:
        with pytest.raises(ConfirmationTimeout, match="cred-1"):
            await BusCredentialsWriter(bus, timeout_s=0.05).store(command())
        published = [r for p in bus.log_of(topics.CREDENTIALS_COMMANDS) for r in p]
    finally:
        await bus.stop()

    assert len(published) == 1
    assert published[0].key == "user-1"
