"""`on_trigger_commands`: a trigger command record in, the webhook verb called."""

import logging
from collections.abc import Awaitable, Callable

from integrations.bus import Bus, Record
from integrations.contracts import DecodeError, decode, topics
from integrations.credentials.domain.webhooks import ActivationFailed
from integrations.credentials.webhook_context import WebhookContext
from integrations.credentials.webhook_handlers import TriggerCommand, apply_trigger_command

log = logging.getLogger(__name__)


def subscribe(
    bus: Bus,
    ctx: WebhookContext,
    *,
    group: str,
    until_ready: Callable[[], Awaitable[None]],
) -> None:
    async def on_trigger_commands(record: Record) -> None:
        await until_ready()
        try:
            command = decode(record.headers, record.value)
            if isinstance(command, TriggerCommand):
                await apply_trigger_command(command, ctx)
        except ActivationFailed:
            pass  # answered with `TriggerActivationFailed`; the command is done
        except DecodeError as error:
            # Redelivery cannot fix it; anything else (storage, bus) raises and retries.
            log.error(
                "trigger command skipped",
                extra={
                    "partition": record.partition,
                    "offset": record.offset,
                    "reason": str(error),
                },
            )

    bus.subscribe(topics.TRIGGER_COMMANDS, on_trigger_commands, group=group)
