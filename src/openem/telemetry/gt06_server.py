"""GT06 over TCP: one connection per tracker; frames are stored before the next bytes are read.

Back-pressure is TCP's own: the reader awaits `store` for each chunk's messages, so a slow store stops
reading and the tracker's send window fills; nothing is acknowledged (login/heartbeat replies) before
its frame's messages are stored. A bad frame is parked (stored as a rejection) and the connection goes on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from openem.core.time import utcnow
from openem.telemetry.devices import Parked, Splitter, ack, decode, imei_of
from openem.telemetry.ingest import IngestResult, _insert, ingest_batch
from openem.telemetry.tables import TelemetryRejectionRow

Store = Callable[[list[dict[str, Any]], list[Parked], str], Awaitable[None]]
READ_CHUNK = 4096
IDLE_TIMEOUT_S = 600.0


def store_in(
    session_factory: Callable[[], Session], hooks: Sequence[Callable[[IngestResult], None]] = ()
) -> Store:
    """A `Store` writing through the ordinary ingest path (raw batch kept, idempotent on device+seq); `hooks`
    run after the commit, as the server's `ingest_hooks` do for HTTP and MQTT (e.g. the live engine)."""

    def _write(objs: list[dict[str, Any]], parked: list[Parked], sender: str) -> None:
        with session_factory() as session:
            result = ingest_batch(session, json.dumps(objs).encode(), source="gt06", sender=sender)
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


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, store: Store) -> None:
    peer = writer.get_extra_info("peername")
    sender = f"gt06:{peer[0] if peer else '?'}"
    splitter = Splitter()
    device_id: str | None = None
    try:
        while True:
            data = await asyncio.wait_for(reader.read(READ_CHUNK), IDLE_TIMEOUT_S)
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
            if objs or parked:
                await store(objs, parked, sender)  # stored before any reply, and before reading on
            for r in replies:
                writer.write(r)
            if replies:
                await writer.drain()
    except (TimeoutError, ConnectionError):
        pass
    finally:
        writer.close()


async def serve(host: str, port: int, store: Store) -> asyncio.Server:
    return await asyncio.start_server(lambda r, w: handle(r, w, store), host, port)
