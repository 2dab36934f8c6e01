"""A simulated GT06 tracker over a real TCP socket: its positions are stored, bad frames parked visibly."""

import asyncio
import concurrent.futures
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from openem.telemetry import devices as d
from openem.telemetry.gt06_server import serve, store_in
from openem.telemetry.tables import TelemetryMessageRow, TelemetryRejectionRow

IMEI = "359710049095095"


def test_tracker_positions_stored_and_a_corrupt_frame_parked(db):
    handed = []
    t0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)

    async def run() -> bytes:
        server = await serve("127.0.0.1", 0, store_in(db.sessions, [lambda r: handed.extend(r.accepted)]))
        port = server.sockets[0].getsockname()[1]
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(d.login_frame(IMEI, serial=1))
        login_ack = await reader.readexactly(10)
        corrupt = bytearray(d.location_frame(t0, 52.0, -1.0, serial=9))
        corrupt[12] ^= 0x55
        stream = d.location_frame(t0, 53.8, -1.55, serial=2) + bytes(corrupt)
        stream += d.location_frame(t0 + timedelta(seconds=30), 53.81, -1.56, serial=3)
        writer.write(stream + d.frame(0x13, b"\x40\x04\x00\x01", 4))
        heartbeat_ack = await reader.readexactly(10)  # sent only after the positions before it are stored
        writer.close()
        server.close()
        await server.wait_closed()
        return login_ack + heartbeat_ack

    with concurrent.futures.ThreadPoolExecutor(1) as pool:  # its own thread: no other test's loop in the way
        acks = pool.submit(asyncio.run, run()).result()
    assert acks == d.ack(0x01, 1) + d.ack(0x13, 4)
    assert sorted(m.type for m in handed) == ["gps", "gps", "heartbeat"]  # handed on after storing
    with db.sessions() as s:
        rows = s.scalars(select(TelemetryMessageRow).where(TelemetryMessageRow.device_id == IMEI)).all()
        gps = sorted((r.payload["lat"], r.device_time) for r in rows if r.type == "gps")
        assert [round(lat, 4) for lat, _ in gps] == [53.8, 53.81]
        assert any(r.type == "heartbeat" for r in rows)
        parked = s.scalars(select(TelemetryRejectionRow.code)).all()
        assert "bad_crc" in parked
