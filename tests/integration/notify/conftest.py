"""Real channels on loopback: an aiosmtpd SMTP server that keeps what it received, and an HTTP webhook receiver
that checks signatures (notify.signing.verify) and can be told to fail, hang or answer slowly."""

from __future__ import annotations

import socket
import threading
import time
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from openem.notify import signing

SECRET = "webhook-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Mailbox:
    def __init__(self, port: int) -> None:
        self.port, self.messages, self.controller = port, [], None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook name)
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp():
    box = Mailbox(free_port())
    yield box
    box.stop()


class Receiver:
    """mode: ok | fail (HTTP 500) | hang (longer than the sender's timeout) | slow (within it)."""

    def __init__(self) -> None:
        self.mode, self.accepted, self.refused, self.seen = "ok", [], [], set()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a: Any) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                mode = receiver.mode
                if mode == "hang":
                    time.sleep(1.5)
                if mode == "slow":
                    time.sleep(0.3)
                if mode == "fail":
                    self.send_response(500)
                    self.end_headers()
                    return
                try:

                    def seen(i: str) -> bool:
                        was = i in receiver.seen
                        receiver.seen.add(i)
                        return was

                    did = signing.verify(SECRET, dict(self.headers), body, time.time(), seen)
                except signing.Refused as exc:
                    receiver.refused.append(str(exc))
                    self.send_response(401)
                    self.end_headers()
                    return
                receiver.accepted.append((did, body, dict(self.headers)))
                self.send_response(202)
                self.end_headers()
                self.wfile.write(b"accepted")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/breaches"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()
