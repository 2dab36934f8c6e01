"""Parallel clients reading and writing personal data: no server errors, and the audit chain stays whole
(one row per audited request, no fork), on SQLite and PostgreSQL, from threads and (SQLite) two processes."""

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from openem.auth import audit
from openem.auth.tables import AuditRow

from .concurrent_clients import AUDITED_OK, run_clients

HERE = Path(__file__).parent


def _order_audit_rows(db):
    with db.uow() as uow:
        return uow.session.execute(
            select(func.count()).select_from(AuditRow).where(AuditRow.action.like("orders:%"))
        ).scalar_one()


def _chain(db):
    with db.uow() as uow:
        return audit.verify_chain(uow.session)


def test_parallel_clients_get_no_server_errors_and_every_read_is_audited(world):
    statuses = run_clients(
        world.app,
        "demo-order-creator-court",
        world.passwords["demo-order-creator-court"],
        threads=4,
        rounds=6,
    )
    assert not [s for s in statuses if s >= 500], statuses
    audited = sum(n for s, n in statuses.items() if s in AUDITED_OK)
    assert audited == 4 * 6 * 3
    assert _order_audit_rows(world.db) == audited
    report = _chain(world.db)
    assert report.ok, report


def test_two_server_processes_sharing_one_sqlite_file_keep_one_chain(sqlite_url, tmp_path):
    from openem.platform_cli import seed_demo_users
    from openem.store.db import Database

    db = Database(sqlite_url)
    passwords = {u: p for u, _, p in seed_demo_users(db, one_off=False)}
    user = "demo-order-creator-court"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    script = [
        sys.executable,
        str(HERE / "concurrent_clients.py"),
        sqlite_url,
        str(tmp_path / "var"),
        user,
        passwords[user],
        "5",
    ]
    procs = [
        subprocess.Popen(script, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    results = [p.communicate(timeout=300) for p in procs]
    assert all(p.returncode == 0 for p in procs), [err[-3000:] for _, err in results]
    statuses: dict[int, int] = {}
    for out, _ in results:
        for status, n in json.loads(out.strip().splitlines()[-1]).items():
            statuses[int(status)] = statuses.get(int(status), 0) + n
    assert not [s for s in statuses if s >= 500], statuses
    audited = sum(n for s, n in statuses.items() if s in AUDITED_OK)
    assert audited == 2 * 3 * 5 * 3
    assert _order_audit_rows(db) == audited
    report = _chain(db)
    assert report.ok, report
    assert report.anchored_seq > 0  # each process anchored the newest row it wrote when it exited cleanly
    db.dispose()
