"""Back-pressure end to end with a real server (uvicorn on a socket): while ingest is behind, the server
answers 503 with Retry-After and stores nothing; `openem sim stream`'s sender waits as told and sends again,
and every message ends up stored exactly once."""

import socket
import threading
import time
from datetime import UTC, datetime, timedelta

import uvicorn
from sqlalchemy import func, select
from tests.conftest import make_settings

from openem.auth.service import issue_token
from openem.core.time import iso
from openem.server import create_app
from openem.sim.stream import Pacer, send_paced
from openem.telemetry.tables import TelemetryMessageRow
from openem.telemetry.web import api


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_sender_waits_as_told_and_loses_nothing(db, db_url, tmp_path, monkeypatch):
    app = create_app(make_settings(tmp_path, db_url), db, start_dispatcher=False)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with db.uow() as uow:
            token = issue_token(uow.session, actor="test", name="gw", device_scope="gw-bp")
        now = datetime.now(UTC).replace(microsecond=0)
        msgs = [{"v": 1, "device_id": f"D{i % 7}", "seq": i, "type": "heartbeat",
                 "device_time": iso(now - timedelta(minutes=30) + timedelta(seconds=i)),
                 "receive_time": iso(now - timedelta(minutes=30) + timedelta(seconds=i))} for i in range(250)]  # fmt: skip
        monkeypatch.setattr(api, "MAX_IN_FLIGHT", 0)  # ingest behind: every batch refused
        waits: list[float] = []

        def sleep(s: float) -> None:  # no real waiting: record it, and catch up after three refusals
            waits.append(s)
            if len(waits) == 3:
                api.MAX_IN_FLIGHT = 8

        sent = send_paced(msgs, f"http://127.0.0.1:{port}", token, Pacer(0), batch_size=100, sleep=sleep)
        assert sent == 250
        assert waits[:3] == [1.0, 1.0, 1.0]  # Retry-After: 1, honoured
        with db.sessions() as s:
            assert s.scalar(select(func.count()).select_from(TelemetryMessageRow)) == 250
    finally:
        server.should_exit = True
        thread.join(10)
