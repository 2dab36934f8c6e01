"""Several server processes on one database: exactly one outbox dispatcher sends, the others stand by and one
takes over when it stops or dies. Each dispatcher here has its own Database (its own pool and lock), as a
second process would; the "killed" one is a real process killed with SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

import openem
from openem.bus.dispatch import OutboxDispatcher
from openem.bus.outbox import OutboxRow
from openem.store.db import Database

from .events import OrderNoted, publish


class Recorder:
    """A publisher that remembers what it sent; `hold` makes it stop (inside publish) until released."""

    def __init__(self, sent: list[str], hold: threading.Event | None = None) -> None:
        self.sent = sent
        self.hold = hold
        self.holding = threading.Event()
        self._mutex = threading.Lock()

    def __call__(self, topic: str, mid: str, payload: dict) -> None:
        if self.hold is not None and not self.hold.is_set():
            self.holding.set()
            self.hold.wait()
        with self._mutex:
            self.sent.append(mid)


def wait_for(what, timeout_s: float = 30.0, message: str = ""):
    """Poll until `what()` is truthy (an outcome, not a fixed wait)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = what()
        if got:
            return got
        time.sleep(0.02)
    raise AssertionError(message or "timed out")


def outbox_ids(db) -> tuple[set[str], int]:
    with db.uow() as uow:
        ids = set(uow.session.execute(select(OutboxRow.id)).scalars())
        pending = uow.session.execute(
            select(func.count()).select_from(OutboxRow).where(OutboxRow.delivered_at.is_(None))
        ).scalar_one()
    return ids, pending


def write(db, first: int, n: int) -> None:
    for i in range(first, first + n, 5):
        publish(db, *(OrderNoted(f"ORD-{j % 7}", j) for j in range(i, min(i + 5, first + n))))


def test_two_dispatchers_send_each_row_once_and_the_second_takes_over(db_url):
    sent: list[str] = []
    hold = threading.Event()
    db_a, db_b = Database(db_url), Database(db_url)
    held_a = Recorder(sent, hold)
    a = OutboxDispatcher(db_a, held_a)
    b = OutboxDispatcher(db_b, Recorder(sent))
    try:
        write(db_a, 0, 30)
        a.start(interval_s=0.05)
        wait_for(held_a.holding.is_set, message="A never started sending")
        # A is active and in the middle of its batch: B's turn must send nothing, not even A's batch
        b.step()
        assert b.status()["role"] == "standby" and a.status()["role"] == "active"
        assert sent == []
        b.start(interval_s=0.05)
        hold.set()
        ids, _ = outbox_ids(db_a)
        wait_for(lambda: outbox_ids(db_a)[1] == 0, message="A did not deliver everything")
        assert Counter(sent) == Counter(ids) and len(sent) == 30
        assert b.status()["role"] == "standby"

        a.stop()  # a clean stop gives up the lock: B takes over and sends what is written after
        write(db_b, 30, 20)
        for d in (a, b):
            d.wake()
        wait_for(lambda: outbox_ids(db_b)[1] == 0, message="B did not take over")
        ids, _ = outbox_ids(db_b)
        assert Counter(sent) == Counter(ids) and len(sent) == 50
        assert b.status()["role"] == "active" and a.status()["role"] == "stopped"
    finally:
        hold.set()
        for d, database in ((a, db_a), (b, db_b)):
            d.stop()
            database.dispose()


HOLDER = textwrap.dedent(
    """
    import sys, threading
    from openem.bus.dispatch import OutboxDispatcher
    from openem.store.db import Database
    url, out, stop_after = sys.argv[1], sys.argv[2], int(sys.argv[3])
    sent = open(out, "a")
    count = [0]
    def publish(topic, mid, payload):
        if count[0] >= stop_after:
            print("stuck", flush=True)
            threading.Event().wait()  # hangs mid-batch until killed
        sent.write(mid + "\\n"); sent.flush(); count[0] += 1
    OutboxDispatcher(Database(url), publish).start(interval_s=0.05)
    threading.Event().wait()
    """
)


def test_a_killed_dispatcher_is_taken_over_and_the_rest_delivered_once(db_url, tmp_path: Path):
    db = Database(db_url)
    write(db, 0, 25)
    script, out = tmp_path / "holder.py", tmp_path / "sent-by-killed.txt"
    script.write_text(HOLDER)
    env = {**os.environ, "PYTHONPATH": str(Path(openem.__file__).resolve().parents[1])}
    proc = subprocess.Popen(
        [sys.executable, str(script), db_url, str(out), "10"], env=env, stdout=subprocess.PIPE, text=True
    )
    sent: list[str] = []
    standby = OutboxDispatcher(db, Recorder(sent))
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "stuck"
        standby.step()
        assert standby.status()["role"] == "standby" and sent == []
        standby.start(interval_s=0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        wait_for(lambda: outbox_ids(db)[1] == 0, message="nobody took over from the killed dispatcher")
        by_killed = out.read_text().split()
        ids, _ = outbox_ids(db)
        assert len(by_killed) == 10
        assert Counter(by_killed + sent) == Counter(ids)  # every row once, between the two
        assert standby.status()["role"] == "active"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        standby.stop()
        db.dispose()


def test_health_says_whether_this_process_dispatcher_is_active_or_standing_by(world, db_url):
    client, mine = world.client(), world.app.state.dispatcher
    assert client.get("/health").json()["dispatcher"]["role"] == "stopped"
    other_db = Database(db_url)
    other = OutboxDispatcher(other_db, Recorder([]))
    try:
        other.start(interval_s=0.05)
        wait_for(lambda: other.status()["role"] == "active")
        mine.start(interval_s=0.05)
        wait_for(lambda: client.get("/health").json()["dispatcher"]["role"] == "standby")
        health = client.get("/health")
        assert health.status_code == 200 and health.json()["status"] == "ok"  # standing by is not a problem
        other.stop()
        wait_for(lambda: client.get("/health").json()["dispatcher"]["role"] == "active")
    finally:
        other.stop()
        mine.stop()
        other_db.dispose()


def test_a_dispatcher_whose_database_session_ends_gives_way_and_another_takes_over(db_url):
    """PostgreSQL: the lock lives in the dispatcher's own session; when the server ends that session (a lost
    connection, an administrator's pg_terminate_backend), the other dispatcher takes over."""
    if db_url.startswith("sqlite"):
        pytest.skip("the lock file has no session to lose")
    from sqlalchemy import text

    sent: list[str] = []
    db_a, db_b = Database(db_url), Database(db_url)
    a, b = OutboxDispatcher(db_a, Recorder(sent)), OutboxDispatcher(db_b, Recorder(sent))
    try:
        a.step()
        b.step()
        assert (a.status()["role"], b.status()["role"]) == ("active", "standby")
        with db_b.engine.connect() as c:
            c.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted")
            )
        b.start(interval_s=0.05)
        wait_for(lambda: b.status()["role"] == "active", message="B did not take the freed lock")
        write(db_b, 0, 10)
        b.wake()
        wait_for(lambda: outbox_ids(db_b)[1] == 0)
        a.step()  # A finds its session gone and stands by: it sends nothing
        assert a.status()["role"] == "standby"
        assert Counter(sent) == Counter(outbox_ids(db_b)[0])
    finally:
        for d, database in ((a, db_a), (b, db_b)):
            d.stop()
            database.dispose()
