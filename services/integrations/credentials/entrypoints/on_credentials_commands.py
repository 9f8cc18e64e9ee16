"""`on_credentials_commands`: a StoreOAuthCredentials record in, the handler called."""

import logging
from collections.abc import Awaitable, Callable

from integrations.bus import Bus, Record
from integrations.contracts import DecodeError, StoreOAuthCredentials, decode, topics
from integrations.credentials.context import CredentialsContext
from integrations.credentials.domain.errors import UnreadableCommand
from integrations.credentials.handlers import store_oauth_credentials

log = logging.getLogger(__name__)


def subscribe(
    bus: Bus,
    ctx: CredentialsContext,
    *,
    group: str,
    until_ready: Callable[[], Awaitable[None]],
) -> None:
    async def on_credentials_commands(record: Record) -> None:
        await until_ready()
        try:
            command = decode(record.headers, record.value)
            if isinstance(command, StoreOAuthCredentials):
                await store_oauth_credentials(command, ctx)
        except (DecodeError, UnreadableCommand) as error:
            # Redelivery cannot fix these; anything else (storage, bus) raises and retries.
            log.error(
                "credentials command skipped",
                extra={
                    "partition": record.partition,
                    "offset": record.offset,
                    "reason": str(error),
                },
            )

    bus.subscribe(topics.CREDENTIALS_COMMANDS, on_credentials_commands, group=group)
