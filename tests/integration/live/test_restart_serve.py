"""A real `openem serve` killed with SIGKILL (before and while a batch is being stored) or stopped with
SIGTERM, then started again, gives the alerts of a server that ran the whole simulated day without a restart;
SQLite and PostgreSQL."""

import collections
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid

import httpx
import pytest
from sqlalchemy import func, select
from tests.integration.live.day import Stores, batches, published

from openem.live import LiveMonitor
from openem.telemetry.tables import TelemetryBatchRow

pytestmark = pytest.mark.slow


def until(check, what, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Server:
    """`openem serve` in its own process on a free port, checkpointing every second."""

    def __init__(self, db_url, tmp_path, token):
        self.db_url, self.tmp_path, self.token = db_url, tmp_path, token
        self.secret, self.proc, self.starts = "test-" + uuid.uuid4().hex, None, 0
        tmp_path.mkdir(parents=True, exist_ok=True)

    def start(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        env = {**os.environ, "OPENEM_DATABASE_URL": self.db_url, "OPENEM_VAR_DIR": str(self.tmp_path / "var"),
               "OPENEM_SECRET_KEY": self.secret, "OPENEM_ENGINE_CHECKPOINT_S": "1",
               "PYTHONPATH": os.pathsep.join(sys.path)}  # fmt: skip
        self.starts += 1
        self.log = self.tmp_path / f"serve{self.starts}.log"
        self.proc = subprocess.Popen([sys.executable, "-m", "openem.cli", "serve", "--port", str(self.port)],
                                     env=env, stdout=open(self.log, "w"), stderr=subprocess.STDOUT)  # fmt: skip
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60,
                                   headers={"Authorization": f"Bearer {self.token}"})  # fmt: skip
        until(self._up, f"the server to start ({self.log.read_text()[-1500:]})")

    def _up(self):
        assert self.proc.poll() is None, self.log.read_text()[-3000:]
        try:
            return self.client.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    def post(self, raw):
        r = self.client.post("/api/telemetry/batch", content=raw)
        assert r.status_code == 200, r.text

    def stop(self, sig):
        self.proc.send_signal(sig)
        self.proc.wait(30)
        self.client.close()


def stored_batches(db):
    with db.uow() as uow:
        return uow.session.execute(select(func.count()).select_from(TelemetryBatchRow)).scalar_one()


def send_day(db, url, tmp_path, token, restarts=None):
    """Send the day over HTTP; before batch i of `restarts` {i: how} the server goes away and comes back."""
    server = Server(url, tmp_path, token)
    server.start()
    for i, (raw, _) in enumerate(batches()):
        how = (restarts or {}).get(i)
        if how == "SIGKILL while storing":
            kill_while_storing(db, server, raw)
            server.start()  # the gateway had no acknowledgement: it sends the batch again
        elif how:
            server.stop(getattr(signal, how))
            server.start()
        server.post(raw)
    server.stop(signal.SIGTERM)
    # the same last step for every run: time moved on to the newest event plus the allowed lateness
    live = LiveMonitor(db)
    live.load()
    live.tick()
    return published(db)


def kill_while_storing(db, server, raw):
    before = stored_batches(db)
    sending = threading.Thread(target=_try_post, args=(server, raw))
    sending.start()
    until(lambda: stored_batches(db) > before, "the batch to be stored")
    server.stop(signal.SIGKILL)  # committed; processed and acknowledged, or not
    sending.join(60)


def _try_post(server, raw):
    try:
        server.post(raw)
    except (httpx.TransportError, AssertionError):
        pass  # killed before it answered


def test_a_killed_or_stopped_server_gives_the_alerts_of_one_that_ran_all_day(db_url, tmp_path):
    stores = Stores(db_url, tmp_path)
    try:
        db, url, token = stores.new()
        expected = send_day(db, url, tmp_path / "a", token)
        kinds = collections.Counter(expected.values())
        # the late returns a restart lost
        assert kinds["curfew_late_return"] >= 1 and len(expected) >= 5, kinds
        db, url, token = stores.new()
        restarts = {4: "SIGKILL", 9: "SIGKILL while storing", 15: "SIGTERM", 19: "SIGKILL"}
        got = send_day(db, url, tmp_path / "b", token, restarts)
        lost = collections.Counter(expected[i] for i in set(expected) - set(got))
        extra = collections.Counter(got[i] for i in set(got) - set(expected))
        assert not lost and not extra, (lost, extra)
    finally:
        stores.close()
