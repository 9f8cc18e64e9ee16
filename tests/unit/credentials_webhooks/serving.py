"""Serve an ASGI app with uvicorn on a loopback port: in the test's event loop (async
tests), or in a thread of its own (for synchronous callers such as the CLI).

Ports can be reserved first (`loopback_socket`), so two apps that must know each other's
URL when they are built can be started after both are built.
"""

import asyncio
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Literal

import uvicorn

START_TIMEOUT_S = 10.0
Lifespan = Literal["on", "off"]


def loopback_socket() -> tuple[socket.socket, str]:
    """A bound socket on a free 127.0.0.1 port, and its base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock, f"http://127.0.0.1:{sock.getsockname()[1]}"


def _server(app: Any, lifespan: Lifespan) -> uvicorn.Server:
    # No websockets: nothing here needs them, and their imports warn.
    config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, ws="none", http="h11")
    return uvicorn.Server(config)


@asynccontextmanager
async def serve_on_loopback(
    app: Any, *, lifespan: Lifespan = "off", sock: socket.socket | None = None
) -> AsyncIterator[str]:
    """Serve `app` until the block ends; yields its base URL."""
    if sock is None:
        sock, url = loopback_socket()
    else:
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = _server(app, lifespan)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(START_TIMEOUT_S):
            while not server.started:
                if task.done():
                    task.result()  # surfaces why it could not start
                await asyncio.sleep(0.01)
        yield url
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextmanager
def serve_in_thread(app: Any, *, lifespan: Lifespan = "on") -> Iterator[str]:
    sock, url = loopback_socket()
    server = _server(app, lifespan)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the test server did not start")
            time.sleep(0.01)
        yield url
    finally:
        server.should_exit = True
        thread.join(START_TIMEOUT_S)
        sock.close()
