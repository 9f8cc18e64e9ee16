"""Where ingress finds a webhook: the view first, then one read-through call, cached.

The view (`MaterializedTable` over the compacted `webhooks` topic) answers every request at
steady state. A miss means the webhook is unknown, or newer than what the view has read: for
that window credentials is asked once, and its answer is kept in two bounded caches.

Learnt webhooks are kept aside, not put into the view: the view only ever holds what the
topic says, so a tombstone that raced the read-through cannot be undone by it. The price is
that a webhook pruned meanwhile is accepted for at most `found_ttl_s` (its events then find
no trigger in the dispatcher's view).
"""

import asyncio
from typing import Protocol

from integrations.contracts import WebhookState
from integrations.ingress.adapters.ttl_cache import TtlCache
from integrations.ingress.handlers import WebhookLookupUnavailable


class WebhookView(Protocol):
    def get(self, key: str) -> WebhookState | None: ...


class ReadThrough(Protocol):
    async def fetch(self, webhook_id: str) -> WebhookState | None:
        """The owner's answer (None: no such webhook); raises `WebhookLookupUnavailable`."""
        ...


class ViewWithReadThrough:
    def __init__(
        self,
        view: WebhookView,
        owner: ReadThrough,
        *,
        found: TtlCache[str, WebhookState],
        not_found: TtlCache[str, bool],
        max_in_flight: int,
    ) -> None:
        self._view = view
        self._owner = owner
        self._found = found
        self._not_found = not_found
        self._max_in_flight = max_in_flight
        # One call per id at a time: concurrent deliveries for the same id share its answer.
        self._in_flight: dict[str, asyncio.Future[WebhookState | None]] = {}

    async def find(self, webhook_id: str) -> WebhookState | None:
        state = self._view.get(webhook_id) or self._found.get(webhook_id)
        if state is not None:
            return state
        if webhook_id in self._not_found:
            return None
        shared = self._in_flight.get(webhook_id)
        if shared is not None:
            # Shielded: one waiter giving up must not cancel the answer for the others.
            return await asyncio.shield(shared)
        if len(self._in_flight) >= self._max_in_flight:
            raise WebhookLookupUnavailable("too many webhook lookups in flight")
        return await self._read_through(webhook_id)

    async def _read_through(self, webhook_id: str) -> WebhookState | None:
        answer: asyncio.Future[WebhookState | None] = asyncio.get_running_loop().create_future()
        self._in_flight[webhook_id] = answer
        try:
            state = await self._owner.fetch(webhook_id)
        except BaseException as error:
            shared_error = (
                error
                if isinstance(error, WebhookLookupUnavailable)
                else WebhookLookupUnavailable("webhook lookup abandoned")
            )
            answer.set_exception(shared_error)
            answer.exception()  # retrieved: no "never retrieved" report when nobody waited
            raise
        else:
            if state is None:
                self._not_found.put(webhook_id, True)
            else:
                self._found.put(webhook_id, state)
            answer.set_result(state)
            return state
        finally:
            del self._in_flight[webhook_id]
