"""`openem serve --workers 2`: two server processes share the HTTP port and the GT06 port; the engine runs in
the NATS-partitioned engine worker, and a GT06 tracker's and a gateway's fixes in an exclusion zone both
become stored alerts. One process alone refuses to start several without the partition workers."""

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from tests.integration.scale.scale_world import nats_url
from tests.integration.telemetry.test_trackers_reach_the_engine import _order_with_device

from openem.alerts.tables import AlertRow
from openem.auth.service import issue_token
from openem.config import load_settings
from openem.core.time import iso
from openem.orders.samples import sample_order
from openem.platform_cli import serve_workers
from openem.telemetry import devices as d

IMEI = "359710049095096"


def test_several_processes_need_the_partition_workers():
    alone = load_settings({"OPENEM_SECRET_KEY": "x", "OPENEM_DATABASE_URL": "sqlite://"})
    assert serve_workers(1, alone) == 1
    assert "partition workers" in str(serve_workers(2, alone))
    scaled = load_settings({"OPENEM_SECRET_KEY": "x", "OPENEM_DATABASE_URL": "sqlite://",
                            "OPENEM_BUS_URL": "nats://127.0.0.1:4222", "OPENEM_ENGINE_PARTITIONS": "2"})  # fmt: skip
    assert serve_workers(2, scaled) == 2 and serve_workers(0, scaled) != 0


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(args, env, log):
    return subprocess.Popen([sys.executable, "-m", "openem.cli", *args], env=env, stdout=open(log, "w"),
                            stderr=subprocess.STDOUT)  # fmt: skip


@pytest.mark.nats
def test_two_server_processes_feed_the_partitioned_engine(db, db_url, tmp_path):
    if not db_url.startswith("postgresql"):
        pytest.skip("several processes are run on PostgreSQL")
    url = nats_url()
    now = datetime.now(UTC).replace(microsecond=0)
    doc = sample_order(now - timedelta(days=2))
    ring = doc["conditions"]["exclusion_zones"][0]["geometry"]["coordinates"][0]
    lat, lon = sum(p[1] for p in ring[:4]) / 4, sum(p[0] for p in ring[:4]) / 4
    refs = {
        "gt06": _order_with_device(db, now, doc, "MG", IMEI),
        "wire": _order_with_device(db, now, doc, "MW", "GPS-MW"),
    }
    with db.uow() as uow:
        token = issue_token(uow.session, actor="test", name="gw", device_scope="gw-mp")
    http_port, gt06_port = _free_port(), _free_port()
    env = {**os.environ, "OPENEM_DATABASE_URL": db_url, "OPENEM_VAR_DIR": str(tmp_path), "OPENEM_BUS_URL": url,
           "OPENEM_ENGINE_PARTITIONS": "2", "OPENEM_GT06_PORT": str(gt06_port), "OPENEM_SECRET_KEY": "t" * 32,
           "PYTHONPATH": os.pathsep.join(sys.path)}  # fmt: skip
    procs = [
        _spawn(
            ["serve", "--workers", "2", "--port", str(http_port), "--no-migrate"], env, tmp_path / "serve.log"
        ),
        _spawn(["worker", "--engine", "--nats", url, "--partitions", "2"], env, tmp_path / "engine.log"),
        _spawn(["worker", "--nats", url], env, tmp_path / "bus.log"),
    ]
    try:
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{http_port}/health", timeout=2).status_code < 600:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        times = [now - timedelta(minutes=10) + timedelta(seconds=30 * i) for i in range(10)]
        fixes = [{"v": 1, "device_id": "GPS-MW", "seq": i, "type": "gps", "device_time": iso(t),
                  "payload": {"lat": lat, "lon": lon, "accuracy_m": 10.0, "source": "GPS"}}
                 for i, t in enumerate(times)]  # fmt: skip
        r = httpx.post(f"http://127.0.0.1:{http_port}/api/telemetry/batch", content=json.dumps(fixes),
                       headers={"Authorization": f"Bearer {token}"}, timeout=30)  # fmt: skip
        assert r.status_code == 200 and r.json()["accepted"] == 10, r.text
        with socket.create_connection(("127.0.0.1", gt06_port), timeout=30) as s:
            s.sendall(d.login_frame(IMEI, serial=1))
            s.recv(10)
            s.sendall(b"".join(d.location_frame(t, lat, lon, serial=2 + i) for i, t in enumerate(times)))
            s.sendall(d.frame(0x13, b"\x40\x04\x00\x01", 40))
            s.recv(10)
        found: dict[str, list[str]] = {}
        deadline = time.time() + 120
        while time.time() < deadline:
            with db.uow() as uow:
                found = {k: [a.kind for a in uow.session.scalars(select(AlertRow).where(AlertRow.order_ref == ref))]
                         for k, ref in refs.items()}  # fmt: skip
            if all(any("exclusion" in k for k in kinds) for kinds in found.values()):
                break
            time.sleep(1)
        logs = {p: (tmp_path / p).read_text()[-1500:] for p in ("serve.log", "engine.log", "bus.log")}
        assert all(any("exclusion" in k for k in kinds) for kinds in found.values()), (found, logs)
        assert sorted(found["gt06"]) == sorted(found["wire"])
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
