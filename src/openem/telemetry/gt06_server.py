"""GT06 and Teltonika (Codec 8/8E) over TCP: one connection per tracker; frames are stored before the next
bytes are read.

Back-pressure is TCP's own: the reader awaits `store` for each chunk's messages, so a slow store stops
reading and the tracker's send window fills; nothing is acknowledged (login/heartbeat replies) before
its frame's messages are stored. A bad frame is parked (stored as a rejection) and the connection goes on.

Slow senders: a connection that has not identified itself within HANDSHAKE_DEADLINE_S, or that leaves a frame
half-sent for FRAME_DEADLINE_S, is closed (a byte a minute cannot hold a connection open); an idle one after
IDLE_TIMEOUT_S. Unframed bytes are bounded (devices.MAX_BUFFER, teltonika.MAX_PACKET).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from openem.core.time import utcnow
from openem.telemetry.devices import Parked, Splitter, ack, decode, imei_of
from openem.telemetry.ingest import IngestResult, _insert, ingest_batch
from openem.telemetry.tables import TelemetryRejectionRow
from openem.telemetry.teltonika import Stream, to_wire

Store = Callable[[list[dict[str, Any]], list[Parked], str], Awaitable[None]]
READ_CHUNK = 4096
IDLE_TIMEOUT_S = 600.0
HANDSHAKE_DEADLINE_S = 30.0
FRAME_DEADLINE_S = 60.0
MAX_BAD_IN_A_ROW = 100  # a connection sending only unreadable frames is closed after this many
PROTOCOLS = ("gt06", "teltonika")


def store_in(
    session_factory: Callable[[], Session],
    hooks: Sequence[Callable[[IngestResult], None]] = (),
    source: str = "gt06",
    options: dict[str, Any] | None = None,
) -> Store:
    """A `Store` writing through the ordinary ingest path (raw batch kept, idempotent on device+seq); `hooks`
    run after the commit, as the server's `ingest_hooks` do for HTTP and MQTT (e.g. the live engine)."""

    def _write(objs: list[dict[str, Any]], parked: list[Parked], sender: str) -> None:
        with session_factory() as session:
            result = ingest_batch(
                session, json.dumps(objs).encode(), source=source, sender=sender, **(options or {})
            )
            if parked:
                session.execute(
                    _insert(session, TelemetryRejectionRow.__table__),
                    [
                        {
                            "batch_id": result.batch_id,
                            "code": p.code,
                            "reason": p.reason,
                            "device_id": None,
                            "seq": None,
                            "raw": p.raw_hex,
                        }
                        for p in parked
                    ],  # fmt: skip
                )
            session.commit()
        for hook in hooks:
            hook(result)

    async def store(objs: list[dict[str, Any]], parked: list[Parked], sender: str) -> None:
        await asyncio.to_thread(_write, objs, parked, sender)

    return store


async def _read(reader: asyncio.StreamReader, pending_since: float | None) -> bytes:
    """The next chunk, or TimeoutError when idle too long or when a started frame (or the handshake, counted
    from `pending_since`) is not completed in time."""
    timeout = IDLE_TIMEOUT_S
    if pending_since is not None:
        timeout = min(timeout, max(0.0, pending_since + FRAME_DEADLINE_S - time.monotonic()))
    return await asyncio.wait_for(reader.read(READ_CHUNK), timeout)


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, store: Store) -> None:
    peer = writer.get_extra_info("peername")
    sender = f"gt06:{peer[0] if peer else '?'}"
    splitter = Splitter()
    device_id: str | None = None
    opened = time.monotonic()
    pending_since: float | None = opened + HANDSHAKE_DEADLINE_S - FRAME_DEADLINE_S  # the login deadline
    bad_streak = 0
    try:
        while True:
            data = await _read(reader, pending_since)
            if not data:
                break
            frames, parked = splitter.feed(data)
            objs: list[dict[str, Any]] = []
            replies: list[bytes] = []
            now = utcnow()
            for fr in frames:
                if fr.protocol == 0x01:
                    imei = imei_of(fr.content)
                    if imei is None:
                        parked.append(Parked("bad_login", "login without a readable IMEI", fr.content.hex()))
                        continue
                    device_id = imei
                    replies.append(ack(0x01, fr.serial))
                    continue
                obj, bad = decode(fr, device_id, now)
                if bad is not None:
                    parked.append(bad)
                if obj is not None:
                    objs.append(obj)
                if fr.protocol == 0x13 and device_id is not None:
                    replies.append(ack(0x13, fr.serial))
            bad_streak = 0 if objs or replies else bad_streak + len(parked)
            if objs or parked:
                await store(objs, parked, sender)  # stored before any reply, and before reading on
            if bad_streak >= MAX_BAD_IN_A_ROW:
                break
            for r in replies:
                writer.write(r)
            if replies:
                await writer.drain()
            if device_id is not None:
                if not splitter.buffer:
                    pending_since = None
                elif pending_since is None or frames:
                    pending_since = time.monotonic()
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


async def handle_teltonika(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, store: Store) -> None:
    """IMEI handshake (answered 01 or 00), then AVL packets, each answered with the count of records stored
    (0 for a packet that could not be read, so the tracker sends it again)."""
    peer = writer.get_extra_info("peername")
    sender = f"teltonika:{peer[0] if peer else '?'}"
    stream = Stream()
    pending_since: float | None = time.monotonic() + HANDSHAKE_DEADLINE_S - FRAME_DEADLINE_S
    bad_streak = 0
    try:
        while not stream.closed:
            data = await _read(reader, pending_since)
            if not data:
                break
            objs: list[dict[str, Any]] = []
            parked: list[Parked] = []
            replies: list[bytes] = []
            events = stream.feed(data)
            for ev in events:
                if ev.kind == "imei":
                    replies.append(b"\x01")
                elif ev.kind == "bad_imei":
                    replies.append(b"\x00")
                    if ev.parked:
                        parked.append(ev.parked)
                elif ev.kind == "parked" and ev.parked is not None:
                    parked.append(ev.parked)
                    if ev.parked.code in ("bad_crc", "malformed"):
                        replies.append((0).to_bytes(4, "big"))
                elif ev.kind == "packet" and stream.imei is not None:
                    for rec in ev.records:
                        objs.extend(to_wire(rec, stream.imei))
                    replies.append(len(ev.records).to_bytes(4, "big"))
            bad_streak = 0 if objs else bad_streak + len(parked)
            if objs or parked:
                await store(objs, parked, sender)  # stored before the count is sent
            if bad_streak >= MAX_BAD_IN_A_ROW:
                break
            for r in replies:
                writer.write(r)
            if replies:
                await writer.drain()
            if stream.imei is not None:
                if not stream.buffer:
                    pending_since = None
                elif pending_since is None or events:
                    pending_since = time.monotonic()
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(
    host: str, port: int, store: Store, protocol: str = "gt06", *, reuse_port: bool = False
) -> asyncio.Server:
    """Listen for one protocol (`PROTOCOLS`). `reuse_port`: several server processes share the port (the
    kernel spreads connections over them)."""
    handler = handle_teltonika if protocol == "teltonika" else handle
    return await asyncio.start_server(
        lambda r, w: handler(r, w, store), host, port, reuse_port=reuse_port or None
    )
