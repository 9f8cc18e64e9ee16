"""Reading a request body without trusting its sender about its size."""

from starlette.requests import Request

from integrations.ingress.handlers import BodyTooLarge


async def read_body(request: Request, limit: int) -> bytes:
    """The whole body, or `BodyTooLarge` as soon as more than `limit` bytes are declared or
    have arrived: a sender that lies in Content-Length (or sends chunked) is cut off at the
    limit instead of filling memory."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(limit)
    body = bytearray()
    async for chunk in request.stream():
        if len(body) + len(chunk) > limit:
            raise BodyTooLarge(limit)
        body += chunk
    return bytes(body)
