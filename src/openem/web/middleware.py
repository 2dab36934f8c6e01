"""ASGI middleware: request ids and access logs, body size limit, security headers, metrics."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openem.web.logging import request_id_var

log = logging.getLogger("openem.http")

REQUESTS = Counter("openem_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("openem_http_request_seconds", "HTTP request latency", ["method", "route"])


class RequestContext:
    """Assigns a request id (or keeps a sane incoming X-Request-ID), logs one JSON line per request, adds
    security headers, and records metrics."""

    def __init__(self, app: ASGIApp, *, hsts: bool = False) -> None:
        self.app = app
        self.hsts = hsts

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        rid = (
            incoming
            if incoming and len(incoming) <= 64 and incoming.replace("-", "").isalnum()
            else secrets.token_hex(8)
        )
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = list(message.get("headers", []))
                headers += [
                    (b"x-request-id", rid.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"same-origin"),
                    (
                        b"content-security-policy",
                        b"default-src 'self'; img-src 'self' data: https:; style-src 'self' 'unsafe-inline'; "
                        b"script-src 'self'; frame-ancestors 'none'",
                    ),
                ]
                headers = exposure_headers(scope["path"], headers, hsts=self.hsts)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            route_path = getattr(route, "path", "unmatched")
            REQUESTS.labels(scope["method"], route_path, str(status_holder["status"])).inc()
            LATENCY.labels(scope["method"], route_path).observe(elapsed)
            log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status_holder["status"],
                    "ms": round(elapsed * 1000, 1),
                },
            )
            request_id_var.reset(token)


#: answers that hold no personal data and may be cached: static files, GOV.UK assets, the health check, the
#: base map's tiles (a browser caches the ranges it read rather than fetching them on every map)
CACHEABLE_PREFIXES = ("/static/", "/assets/")
CACHEABLE_PATHS = frozenset({"/health", "/basemap.pmtiles"})
HSTS = b"max-age=31536000; includeSubDomains"


def exposure_headers(
    path: str, headers: list[tuple[bytes, bytes]], *, hsts: bool
) -> list[tuple[bytes, bytes]]:
    """`Cache-Control: no-store` on every page and API answer (they hold personal or location data, and a
    shared computer's cache or a proxy must not keep them), whatever the route set; HSTS in production."""
    if not (path.startswith(CACHEABLE_PREFIXES) or path in CACHEABLE_PATHS):
        headers = [(k, v) for k, v in headers if k.lower() not in (b"cache-control", b"pragma", b"expires")]
        headers.append((b"cache-control", b"no-store"))
    if hsts:
        headers.append((b"strict-transport-security", HSTS))
    return headers


class BodyLimit:
    """Refuse bodies over the limit with 413 before the app reads them (declared or streamed size)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                too_big = True
            if too_big:
                await _send_413(send, self.max_bytes)
                return
        seen = 0
        responded = False

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge(self.max_bytes)
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal responded
            if message["type"] == "http.response.start":
                responded = True
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not responded:
                await _send_413(send, self.max_bytes)


class _TooLarge(HTTPException):
    """Raised from inside the app when a streamed body passes the limit; Starlette turns it into a 413."""

    def __init__(self, limit: int = 0) -> None:
        super().__init__(413, f"The request body is too large: the limit is {limit} bytes")


async def _send_413(send: Send, limit: int) -> None:
    import json

    body = json.dumps(
        {
            "error": "payload_too_large",
            "message": f"The request body is too large: the limit is {limit} bytes",
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
