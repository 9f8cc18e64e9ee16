"""Send `StoreOAuthCredentials` and wait for its `CredentialsCreated` (DESIGN §4).

The expectation is entered before publishing, so a confirmation that arrives before the
wait begins is not missed. On timeout the command is still on its topic and the credentials
service stores it when it gets there (idempotent by credentials id).
"""

from integrations.bus import Bus, Predicate, Record
from integrations.contracts import (
    CredentialsCreated,
    DecodeError,
    StoreOAuthCredentials,
    decode_as,
    topics,
)
from integrations.contracts.cloudevents import CE_TYPE
from integrations.oauth.domain.errors import ConfirmationTimeout

SOURCE = "/integrations/oauth"


class BusCredentialsWriter:
    def __init__(self, bus: Bus, *, timeout_s: float) -> None:
        self._bus = bus
        self._timeout_s = timeout_s

    async def store(self, command: StoreOAuthCredentials) -> CredentialsCreated:
        confirms = _confirmation_of(command)
        async with self._bus.expect(topics.CREDENTIALS_EVENTS, confirms) as expectation:
            await self._bus.publish(topics.CREDENTIALS_COMMANDS, command, source=SOURCE)
            try:
                record = await expectation.wait(self._timeout_s)
            except TimeoutError:
                raise ConfirmationTimeout(command.credentials_id, self._timeout_s) from None
        return decode_as(CredentialsCreated, record.value)


def _confirmation_of(command: StoreOAuthCredentials) -> Predicate:
    def confirms(record: Record) -> bool:
        # Cheap checks first: every credentials event of every user passes by here.
        if record.key != command.user_id:
            return False
        if record.header(CE_TYPE) != CredentialsCreated.ce_type.encode():
            return False
        try:
            event = decode_as(CredentialsCreated, record.value)
        except DecodeError:
            return False
        return event.credentials_id == command.credentials_id

    return confirms
