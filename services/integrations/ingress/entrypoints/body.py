"""Reading a request body without trusting its sender about its size."""

from collections.abc import Mapping

from starlette.requests import ClientDisconnect
from starlette.types import Receive

from integrations.ingress.handlers import BodyTooLarge


async def read_body(headers: Mapping[str, str], receive: Receive, limit: int) -> bytes:
    """The whole body, or `BodyTooLarge` as soon as more than `limit` bytes are declared or
    have arrived: a sender that lies in Content-Length (or sends chunked) is cut off at the
    limit instead of filling memory. `ClientDisconnect` if the sender goes away."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect()
        chunk: bytes = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
