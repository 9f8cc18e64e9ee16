import asyncio
from collections.abc import Sequence

from integrations.bus import Bus
from integrations.contracts import GraphExecutionRequested, topics
from integrations.dispatcher.context import SOURCE


async def publish_requests(
    bus: Bus, requests: Sequence[GraphExecutionRequested]
) -> dict[str, Exception]:
    """Publish all at once and wait for every acknowledgement; the failures by request id.

    One failing target never blocks the others: each publish stands alone.
    """
    results = await asyncio.gather(
        *(bus.publish(topics.GRAPH_EXECUTION_REQUESTS, r, source=SOURCE) for r in requests),
        return_exceptions=True,
    )
    failures: dict[str, Exception] = {}
    for request, result in zip(requests, results, strict=True):
        if isinstance(result, Exception):
            failures[request.request_id] = result
        elif isinstance(result, BaseException):  # cancellation: not a target's failure
            raise result
    return failures


def describe(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:512]
