"""The audit log is hash-chained: editing, deleting or truncating rows is detected."""

import os
import subprocess
import sys

from sqlalchemy import delete, update

from openem.auth import audit
from openem.auth.tables import AuditHeadRow, AuditRow


def _write(db, n=5):
    with db.uow() as uow:
        for i in range(n):
            audit.record(uow.session, actor="USR-1", action=f"orders:ORD-{i}:submit", records=[f"ORD-{i}"],
                         details={"i": i})


def test_intact_chain_verifies(db):
    _write(db)
    with db.uow() as uow:
        report = audit.verify_chain(uow.session)
    assert report.ok and report.rows == 5


def test_an_edited_row_breaks_the_chain_at_that_row(db):
    _write(db)
    with db.uow() as uow:
        uow.session.execute(update(AuditRow).where(AuditRow.seq == 3).values(actor="someone-else"))
    with db.uow() as uow:
        report = audit.verify_chain(uow.session)
    assert not report.ok and report.first_bad_seq == 3 and "edited" in report.problem


def test_a_deleted_row_is_detected(db):
    _write(db)
    with db.uow() as uow:
        uow.session.execute(delete(AuditRow).where(AuditRow.seq == 2))
    with db.uow() as uow:
        report = audit.verify_chain(uow.session)
    assert not report.ok and report.first_bad_seq == 2


def test_truncating_the_tail_is_detected(db):
    _write(db)
    with db.uow() as uow:
        uow.session.execute(delete(AuditRow).where(AuditRow.seq == 5))
    with db.uow() as uow:
        report = audit.verify_chain(uow.session)
    assert not report.ok


def test_recomputing_a_row_hash_still_breaks_the_next_link(db):
    _write(db)
    with db.uow() as uow:
        row = uow.session.get(AuditRow, 2)
        row.actor = "forger"
        row.hash = audit.row_digest(row.prev_hash, row.seq, row.at, row.actor, row.action, list(row.records),
                                    row.purpose, row.outcome, dict(row.details))
    with db.uow() as uow:
        report = audit.verify_chain(uow.session)
    assert not report.ok and report.first_bad_seq == 3


def test_cli_audit_verify_exits_non_zero_on_a_break(db, db_url, tmp_path):
    _write(db)
    env = {"OPENEM_DATABASE_URL": db_url, "OPENEM_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin",
           "PYTHONPATH": os.pathsep.join(sys.path)}
    ok = subprocess.run([sys.executable, "-m", "openem.cli", "audit", "verify"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0 and '"ok": true' in ok.stdout
    with db.uow() as uow:
        uow.session.execute(update(AuditRow).where(AuditRow.seq == 4).values(details={"i": 99}))
    bad = subprocess.run([sys.executable, "-m", "openem.cli", "audit", "verify"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and '"first_bad_seq": 4' in bad.stdout


def test_head_row_tracks_the_last_record(db):
    _write(db, 3)
    with db.uow() as uow:
        head = uow.session.get(AuditHeadRow, 1)
        last = uow.session.get(AuditRow, 3)
    assert head.seq == 3 and head.hash == last.hash
