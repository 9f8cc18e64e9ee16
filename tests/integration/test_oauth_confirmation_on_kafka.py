"""The callback's confirmation wait on the real broker (DESIGN §4): `StoreOAuthCredentials`
on `credentials-commands`, `CredentialsCreated` back on `credentials-events`, with the
expectation entered before publishing; and the command landing although the wait timed out."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from integrations.bus.admin import ensure_topics
from integrations.bus.kafka import KafkaBus
from integrations.bus.settings import KafkaSettings
from integrations.contracts import TOPICS, topics
from integrations.crypto import Cipher, Purpose
from integrations.oauth.adapters.credentials_writer import BusCredentialsWriter
from integrations.oauth.domain.credentials import OAuth2Credentials, store_command
from integrations.oauth.domain.errors import ConfirmationTimeout
from integrations.oauth.domain.states import issue_state
from tests.unit.dispatcher.kafka_kit import start_group_at_end
from tests.unit.oauth.kit import ROOT_RING, CredentialsStandIn

pytestmark = pytest.mark.integration

OAUTH_CIPHER = Cipher.from_key_ring(ROOT_RING.derive(Purpose.TRANSPORT).export(), Purpose.TRANSPORT)


@dataclass
class Broker:
    bus: KafkaBus
    credentials: CredentialsStandIn
    run: str


@pytest.fixture
async def broker(kafka_bootstrap: str) -> AsyncIterator[Broker]:
    run = uuid.uuid4().hex[:10]
    await ensure_topics(kafka_bootstrap, TOPICS)
    group = f"credentials-{run}"
    await start_group_at_end(kafka_bootstrap, group, topics.CREDENTIALS_COMMANDS)
    bus = KafkaBus(KafkaSettings(bootstrap_servers=kafka_bootstrap, client_id=f"oauth-{run}"))
    credentials = CredentialsStandIn(bus, group=group)
    await bus.start()
    try:
        yield Broker(bus, credentials, run)
    finally:
        await bus.stop()


def credentials_for(run: str) -> tuple[str, OAuth2Credentials]:
    # A real PKCE verifier stands in for a token: any secret string will do.
    secret = issue_state(user_id="u", provider="p", scopes=(), now=0).state.code_verifier
    return f"user-{run}", OAuth2Credentials(
        provider="github",
        access_token=secret,
        access_token_expires_at=int(datetime(2030, 1, 1, tzinfo=UTC).timestamp()),
        scopes=["repo"],
        username="octocat",
    )


async def test_the_callback_waits_for_its_own_confirmation(broker: Broker) -> None:
    user_id, credentials = credentials_for(broker.run)
    writer = BusCredentialsWriter(broker.bus, timeout_s=60)

    created = await writer.store(store_command(user_id, credentials, OAUTH_CIPHER))

    assert created.credentials_id == credentials.id
    assert created.user_id == user_id
    assert created.username == "octocat"
    stored = broker.credentials.stored[credentials.id]
    assert stored.access_token == credentials.access_token.get_secret_value()


async def test_a_timed_out_wait_leaves_the_command_on_its_topic(broker: Broker) -> None:
    user_id, credentials = credentials_for(broker.run)
    broker.credentials.answering = False
    writer = BusCredentialsWriter(broker.bus, timeout_s=1.0)

    with pytest.raises(ConfirmationTimeout):
        await writer.store(store_command(user_id, credentials, OAUTH_CIPHER))

    landed = await broker.credentials.wait_for(credentials.id, timeout=60)
    assert landed.command.user_id == user_id
