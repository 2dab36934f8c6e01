"""A second HTTP listener for part of the app (the OsmAnd phones' port, `OPENEM_OSMAND_PORT`).

Phones running Traccar Client are often given a port of their own (Traccar's is 5055), so that a firewall can
open it to the world while the rest of the server stays inside. The listener serves the same app, with its
state, middleware and handlers, but answers only paths under the given prefixes (404 otherwise). It runs as a
uvicorn server on the main server's event loop, on a socket bound here (SO_REUSEPORT, so every server process
shares it), and leaves signals to the main server.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Callable, Generator
from typing import Any

import uvicorn

Asgi = Callable[..., Any]


class OnlyPaths:
    """The app, for requests whose path starts with one of `prefixes`; 404 for the rest."""

    def __init__(self, app: Asgi, prefixes: tuple[str, ...]) -> None:
        self.app, self.prefixes = app, prefixes

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith(self.prefixes):
            await self.app(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        body = json.dumps({"error": {"code": "not_found", "message": "This port takes phones' positions only "
                                     f"({', '.join(self.prefixes)}...)"}}).encode()  # fmt: skip
        await send({"type": "http.response.start", "status": 404,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                                (b"cache-control", b"no-store")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # the main server's signals stop the process; this one is stopped by `Listener.close`


class Listener:
    """A running second listener: `port` it is bound to, `close()` to stop it."""

    def __init__(self, server: _Server, task: asyncio.Task[Any], port: int) -> None:
        self.server, self.task, self.port = server, task, port

    async def close(self) -> None:
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(self.task, timeout=5)


async def serve_paths(app: Asgi, host: str, port: int, prefixes: tuple[str, ...]) -> Listener:
    """Start serving `prefixes` of `app` on host:port (0: any free port) on the running loop."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.setblocking(False)
    config = uvicorn.Config(OnlyPaths(app, prefixes), lifespan="off", log_config=None, access_log=False,
                            proxy_headers=False)  # fmt: skip
    server = _Server(config)
    task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started and not task.done():
        await asyncio.sleep(0.01)
    if task.done():
        task.result()  # raises what stopped it
    return Listener(server, task, sock.getsockname()[1])
