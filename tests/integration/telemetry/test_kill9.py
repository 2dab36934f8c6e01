"""kill -9 during ingest: every batch acknowledged before the kill is in the store afterwards."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from openem.telemetry.tables import TelemetryMessageRow

WRITER = r"""
import json, sys
from datetime import UTC, datetime, timedelta
from openem.core.time import iso
from openem.store.db import Database
from openem.telemetry.ingest import ingest_batch
db = Database(sys.argv[1])
t0 = datetime.now(UTC) - timedelta(hours=1)
for b in range(100000):
    body = json.dumps([{"v": 1, "device_id": "K-1", "seq": b * 100 + i, "type": "heartbeat",
                        "device_time": iso(t0), "payload": {}} for i in range(100)]).encode()
    with db.uow() as uow:
        ingest_batch(uow.session, body, source="test", copy=True)
    print(b, flush=True)  # the acknowledgement: only after commit
"""


def test_acknowledged_batches_survive_kill_9(db):
    src = str(Path(__file__).resolve().parents[3] / "src")
    proc = subprocess.Popen([sys.executable, "-c", WRITER, db.url], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": src})  # fmt: skip
    acked = []
    assert proc.stdout is not None
    while len(acked) < 20:
        line = proc.stdout.readline()
        assert line, "the writer ended before acknowledging 20 batches"
        acked.append(int(line))
    os.kill(proc.pid, signal.SIGKILL)
    acked += [int(x) for x in proc.stdout.read().split()]
    proc.wait()
    with db.sessions() as s:
        seqs = set(s.scalars(select(TelemetryMessageRow.seq).where(TelemetryMessageRow.device_id == "K-1")))
    missing = [b for b in acked if not all(b * 100 + i in seqs for i in range(100))]
    assert missing == []
    assert len(seqs) % 100 == 0  # a batch is stored whole or not at all
