"""GT06 and Teltonika listeners against slow, hostile and oversized senders over real sockets: connections
that do not finish a frame are closed, refused handshakes get their refusal, and good trackers on the same
listener are stored all the same."""

import asyncio
import concurrent.futures
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from openem.telemetry import devices as d
from openem.telemetry import gt06_server
from openem.telemetry import teltonika as tk
from openem.telemetry.tables import TelemetryMessageRow, TelemetryRejectionRow

IMEI = "356307042441013"


def _run(coro):
    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own loop, in its own thread
        return pool.submit(asyncio.run, coro).result()


async def _closed(reader) -> bool:
    """True once the server has closed the connection (EOF), reading whatever it sent first."""
    try:
        while await asyncio.wait_for(reader.read(1024), 20):
            pass
        return True
    except ConnectionError:  # reset: closed while we were still sending
        return True
    except TimeoutError:
        return False


@pytest.fixture
def short_deadlines(monkeypatch):
    monkeypatch.setattr(gt06_server, "HANDSHAKE_DEADLINE_S", 0.3)
    monkeypatch.setattr(gt06_server, "FRAME_DEADLINE_S", 0.3)


@pytest.mark.parametrize("protocol", ["gt06", "teltonika"])
def test_a_slow_sender_is_cut_off_and_a_good_tracker_beside_it_is_stored(db, short_deadlines, protocol):
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)

    async def run():
        server = await gt06_server.serve(
            "127.0.0.1", 0, gt06_server.store_in(db.sessions, source=protocol), protocol
        )
        port = server.sockets[0].getsockname()[1]
        # 1: connects and never says who it is
        silent_r, _silent_w = await asyncio.open_connection("127.0.0.1", port)
        # 2: identifies itself, then sends half a frame and stalls (a byte at a time, slower than the deadline)
        loris_r, loris_w = await asyncio.open_connection("127.0.0.1", port)
        if protocol == "gt06":
            hello, frame = d.login_frame("359710049095095"), d.location_frame(t0, 53.8, -1.55, serial=2)
        else:
            hello = tk.imei_packet(IMEI)
            frame = tk.packet([tk.Record(int(t0.timestamp() * 1000), 0, -1.55, 53.8, 0, 0, 8, 0, 0, {})])
        loris_w.write(hello + frame[:6])
        await loris_w.drain()

        async def dribble():
            for b in frame[6:12]:
                await asyncio.sleep(0.25)
                loris_w.write(bytes([b]))
                await loris_w.drain()

        dribbling = asyncio.create_task(dribble())
        # 3: a good tracker meanwhile
        good_r, good_w = await asyncio.open_connection("127.0.0.1", port)
        good_w.write(hello + frame)
        await good_w.drain()
        if protocol == "teltonika":  # 01 for the IMEI, then one record accepted
            assert await good_r.readexactly(5) == b"\x01" + (1).to_bytes(4, "big")
        else:
            assert await good_r.readexactly(10) == d.ack(0x01, 1)
        results = await _closed(silent_r), await _closed(loris_r)
        dribbling.cancel()
        good_w.close()
        server.close()
        await server.wait_closed()
        return results

    assert _run(run()) == (True, True)
    with db.sessions() as s:
        assert len(s.scalars(select(TelemetryMessageRow).where(TelemetryMessageRow.type == "gps")).all()) == 1


def test_teltonika_refusals_and_bad_packets_get_their_answers(db):
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    rec = tk.Record(int(t0.timestamp() * 1000), 0, -1.55, 53.8, 0, 0, 8, 0, 0, {tk.IO_BATTERY_PCT: 55})

    async def run():
        server = await gt06_server.serve("127.0.0.1", 0, gt06_server.store_in(db.sessions, source="teltonika"),
                                         "teltonika")  # fmt: skip
        port = server.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(b"\x00\x05hello")
        refused = await r.read(1), await _closed(r)
        r, w = await asyncio.open_connection("127.0.0.1", port)
        bad = bytearray(tk.packet([rec]))
        bad[-1] ^= 0xFF
        w.write(tk.imei_packet(IMEI) + bytes(bad))
        first = await r.readexactly(5)  # 01, then 0 records accepted: the tracker sends the packet again
        w.write(tk.packet([rec]))
        second = await r.readexactly(4)
        w.write(tk.packet([rec]))  # sent again (say its count reply was lost): stored once
        third = await r.readexactly(4)
        w.write(b"\x00\x00\x00\x00" + (2**31).to_bytes(4, "big"))  # declares a 2 GB packet
        oversized_closed = await _closed(r)
        server.close()
        await server.wait_closed()
        return refused, first, second, third, oversized_closed

    refused, first, second, third, oversized_closed = _run(run())
    assert refused == (b"\x00", True)
    assert first == b"\x01" + (0).to_bytes(4, "big") and second == third == (1).to_bytes(4, "big")
    assert oversized_closed
    with db.sessions() as s:
        rows = s.scalars(select(TelemetryMessageRow).where(TelemetryMessageRow.device_id == IMEI)).all()
        assert sorted(r.type for r in rows) == ["battery", "gps"]
        codes = set(s.scalars(select(TelemetryRejectionRow.code)).all())
        assert {"bad_handshake", "bad_crc", "oversized"} <= codes


def test_a_gt06_flood_of_garbage_is_cut_off(db, monkeypatch):
    monkeypatch.setattr(gt06_server, "MAX_BAD_IN_A_ROW", 5)

    async def run():
        server = await gt06_server.serve("127.0.0.1", 0, gt06_server.store_in(db.sessions))
        port = server.sockets[0].getsockname()[1]
        r, w = await asyncio.open_connection("127.0.0.1", port)
        w.write(d.login_frame("359710049095095"))
        await r.readexactly(10)
        bad = bytearray(d.location_frame(datetime.now(UTC), 53.8, -1.55, serial=3))
        bad[10] ^= 0x01
        try:
            for _ in range(50):
                w.write(bytes(bad))
                await w.drain()
                await asyncio.sleep(0.01)
        except ConnectionError:
            pass
        closed = await _closed(r)
        server.close()
        await server.wait_closed()
        return closed

    assert _run(run())
