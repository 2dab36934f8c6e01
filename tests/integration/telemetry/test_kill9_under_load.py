"""kill -9 of a real `openem serve` while several gateways are sending: every message the server acknowledged
is in the store afterwards, and the gateways' resends of what was never acknowledged are stored
too (SQLite)."""

import json
import signal
import threading
import time

import httpx
import pytest
from sqlalchemy import select
from tests.integration.live.day import Stores, batches
from tests.integration.live.test_restart_serve import Server, until

from openem.telemetry.tables import TelemetryMessageRow

pytestmark = pytest.mark.slow
GATEWAYS = 3


def test_kill_9_during_a_run_loses_no_acknowledged_message(tmp_path):
    stores = Stores("sqlite://", tmp_path)
    try:
        db, url, token = stores.new()
        server = Server(url, tmp_path / "serve", token)
        server.start()
        bodies = [raw for raw, _ in batches()]
        acked: list[tuple[str, int]] = []
        lock = threading.Lock()

        def gateway(mine):
            for raw in mine:
                while True:  # as a gateway does: the same batch again until it is acknowledged
                    try:
                        r = httpx.post(f"http://127.0.0.1:{server.port}/api/telemetry/batch", content=raw,
                                       headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
                    except httpx.TransportError:
                        time.sleep(0.05)  # the server is away: try again (it may be on a new port)
                        continue
                    if r.status_code == 200:
                        break
                    time.sleep(0.05)  # 503 while busy or starting
                with lock:
                    acked.extend((m["device_id"], m["seq"]) for m in json.loads(raw))

        threads = [threading.Thread(target=gateway, args=(bodies[k::GATEWAYS],)) for k in range(GATEWAYS)]
        for t in threads:
            t.start()
        until(lambda: len(acked) > 0, "some batches to be acknowledged")
        server.stop(signal.SIGKILL)  # while the gateways are sending
        acked_before_kill = list(acked)
        server.start()
        for t in threads:
            t.join(300)
        assert not any(t.is_alive() for t in threads), "a gateway never got its batches acknowledged"
        server.stop(signal.SIGTERM)

        with db.uow() as uow:
            stored = list(
                uow.session.execute(select(TelemetryMessageRow.device_id, TelemetryMessageRow.seq)).tuples()
            )
        sent = {(m["device_id"], m["seq"]) for raw in bodies for m in json.loads(raw)}
        assert acked_before_kill and set(acked_before_kill) <= set(stored)
        assert set(stored) == sent  # everything acknowledged in the end, nothing invented
        assert server.starts == 2
    finally:
        stores.close()
