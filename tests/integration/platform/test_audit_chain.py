"""The audit log is a keyed hash chain with signed anchors outside the database: editing, deleting,
truncating or re-chaining rows is detected by `verify`, and the CLI exits 1, even when the culprit can
write to the database and knows the project's digest."""

import json
import os
import subprocess
import sys

import pytest
from sqlalchemy import delete, select, update

from openem.auth import audit
from openem.auth.audit_keys import rotate
from openem.auth.audit_trust import configure, trust_from_settings
from openem.auth.tables import AuditHeadRow, AuditRow
from openem.config import load_settings


def _env(db_url, tmp_path, **extra):
    return {
        "OPENEM_DATABASE_URL": db_url,
        "OPENEM_VAR_DIR": str(tmp_path / "var"),
        "OPENEM_AUDIT_KEY_FILE": str(tmp_path / "keys" / "audit_keys.json"),
        "OPENEM_AUDIT_ANCHOR_PATH": str(tmp_path / "anchors" / "audit.jsonl"),
        **extra,
    }


@pytest.fixture
def trust(db, db_url, tmp_path):
    """This test's keys and anchor file (the CLI below is given the same ones)."""
    t = trust_from_settings(load_settings(_env(db_url, tmp_path)))
    configure(db.engine, t)
    return t


def _write(db, n=5, start=0):
    with db.uow() as uow:
        for i in range(start, start + n):
            audit.record(
                uow.session,
                actor="USR-1",
                action=f"orders:ORD-{i}:submit",
                records=[f"ORD-{i}"],
                details={"i": i},
            )


def _verify(db, t=None):
    with db.uow() as uow:
        return audit.verify_chain(uow.session, trust=t)


def _cli(db_url, tmp_path, *args):
    env = {**_env(db_url, tmp_path), "PATH": "/usr/bin:/bin", "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.run(
        [sys.executable, "-m", "openem.cli", "audit", *args], env=env, capture_output=True, text=True
    )


def _rechain_from(db, seq, digest):
    """What a forger with database access does: recompute every hash from `seq` on and move the head."""
    with db.uow() as uow:
        rows = uow.session.execute(select(AuditRow).order_by(AuditRow.seq)).scalars().all()
        prev = rows[seq - 2].hash if seq > 1 else audit.GENESIS
        for r in rows[seq - 1 :]:
            r.prev_hash = prev
            r.hash = digest(prev, r)
            prev = r.hash
        head = uow.session.get(AuditHeadRow, 1)
        head.hash = prev
        return head


def _old_digest(prev, r):
    return audit.row_digest(
        prev, r.seq, r.at, r.actor, r.action, list(r.records), r.purpose, r.outcome, dict(r.details)
    )


def test_intact_chain_verifies_and_every_row_names_its_key(db, trust):
    _write(db)
    report = _verify(db)
    assert report.ok and report.rows == 5
    with db.uow() as uow:
        assert set(uow.session.execute(select(AuditRow.key_id)).scalars()) == {trust.keys.current_id}


def test_an_edited_row_is_detected_at_that_row(db, trust):
    _write(db)
    with db.uow() as uow:
        uow.session.execute(update(AuditRow).where(AuditRow.seq == 3).values(actor="someone-else"))
    report = _verify(db)
    assert not report.ok and report.first_bad_seq == 3 and "edited" in report.problem


def test_a_deleted_row_is_detected(db, trust):
    _write(db)
    with db.uow() as uow:
        uow.session.execute(delete(AuditRow).where(AuditRow.seq == 2))
    report = _verify(db)
    assert not report.ok and report.first_bad_seq == 2 and "missing" in report.problem


def test_an_edit_re_chained_with_the_projects_digest_is_detected(db, trust):
    _write(db)
    with db.uow() as uow:
        uow.session.execute(update(AuditRow).where(AuditRow.seq == 2).values(actor="forger"))
    _rechain_from(db, 2, _old_digest)
    report = _verify(db)
    assert not report.ok and report.first_bad_seq == 2 and "without the key" in report.problem


def test_passing_keyed_rows_off_as_unkeyed_old_rows_is_detected(db, trust):
    _write(db)
    with db.uow() as uow:
        uow.session.execute(update(AuditRow).values(key_id=None))
        uow.session.execute(update(AuditRow).where(AuditRow.seq == 4).values(actor="forger"))
    head = _rechain_from(db, 1, _old_digest)
    with db.uow() as uow:
        uow.session.execute(
            update(AuditHeadRow).values(legacy_until=5, legacy_hash=head.hash, legacy_key_id=None)
        )
    report = _verify(db)
    assert not report.ok and "not sealed" in report.problem


def test_deleting_the_newest_rows_and_moving_the_head_back_is_detected_by_the_anchor(
    db, trust, db_url, tmp_path
):
    _write(db)
    trust.anchors.flush()  # as at a clean shutdown
    with db.uow() as uow:
        third = uow.session.get(AuditRow, 3)
        uow.session.execute(delete(AuditRow).where(AuditRow.seq > 3))
        uow.session.execute(update(AuditHeadRow).values(seq=3, hash=third.hash))
    report = _verify(db)
    assert not report.ok and report.first_bad_seq == 4 and "cut from the end" in report.problem
    bad = _cli(db_url, tmp_path, "verify")
    assert bad.returncode == 1 and json.loads(bad.stdout)["first_bad_seq"] == 4


def test_truncating_then_writing_new_rows_over_the_anchor_is_detected(db, trust):
    _write(db)
    trust.anchors.flush()
    with db.uow() as uow:
        third = uow.session.get(AuditRow, 3)
        uow.session.execute(delete(AuditRow).where(AuditRow.seq > 3))
        uow.session.execute(update(AuditHeadRow).values(seq=3, hash=third.hash))
    _write(db, 2, start=10)
    report = _verify(db)
    assert not report.ok and report.first_bad_seq == 5 and "rewritten" in report.problem


def test_anchors_are_written_every_n_rows_and_a_forged_one_is_detected(db, db_url, tmp_path):
    t = trust_from_settings(load_settings(_env(db_url, tmp_path, OPENEM_AUDIT_ANCHOR_ROWS="3")))
    configure(db.engine, t)
    for i in range(7):
        _write(db, 1, start=i)
    lines = [json.loads(x) for x in (tmp_path / "anchors" / "audit.jsonl").read_text().splitlines()]
    assert [a["seq"] for a in lines] == [3, 6]
    assert _verify(db).anchored_seq == 6
    forged = dict(lines[-1], seq=7, hash="f" * 64)
    with open(tmp_path / "anchors" / "audit.jsonl", "a") as f:
        f.write(json.dumps(forged) + "\n")
    report = _verify(db)
    assert not report.ok and "forged" in report.problem


def test_cli_verify_and_anchor(db, trust, db_url, tmp_path):
    _write(db)
    ok = _cli(db_url, tmp_path, "verify")
    assert ok.returncode == 0 and json.loads(ok.stdout)["ok"] is True
    anchored = _cli(db_url, tmp_path, "anchor")
    assert anchored.returncode == 0 and json.loads(anchored.stdout)["anchored_seq"] == 5
    with db.uow() as uow:
        uow.session.execute(update(AuditRow).where(AuditRow.seq == 4).values(details={"i": 99}))
    bad = _cli(db_url, tmp_path, "verify")
    assert bad.returncode == 1 and json.loads(bad.stdout)["first_bad_seq"] == 4
    refused = _cli(db_url, tmp_path, "anchor")
    assert refused.returncode == 1 and "not anchored" in refused.stderr


def test_rotating_the_key_keeps_old_rows_verifiable(db, trust, db_url, tmp_path):
    _write(db, 3)
    old_id = trust.keys.current_id
    new_id = rotate(tmp_path / "keys" / "audit_keys.json")
    rotated = trust_from_settings(load_settings(_env(db_url, tmp_path)))
    configure(db.engine, rotated)
    _write(db, 2, start=3)
    with db.uow() as uow:
        ids = uow.session.execute(select(AuditRow.key_id).order_by(AuditRow.seq)).scalars().all()
    assert ids == [old_id] * 3 + [new_id] * 2
    assert _verify(db).ok
    only_new = trust_from_settings(load_settings(_env(db_url, tmp_path, OPENEM_AUDIT_KEY="solo:" + "x" * 40)))
    only_new.keys.secrets.pop(old_id)
    report = _verify(db, only_new)
    assert not report.ok and report.first_bad_seq == 1 and "unknown key" in report.problem


def test_head_row_tracks_the_last_record(db, trust):
    _write(db, 3)
    with db.uow() as uow:
        head = uow.session.get(AuditHeadRow, 1)
        last = uow.session.get(AuditRow, 3)
    assert head.seq == 3 and head.hash == last.hash


def test_a_row_is_anchored_within_the_anchor_interval_without_more_writes(db, db_url, tmp_path):
    import time

    t = trust_from_settings(load_settings(_env(db_url, tmp_path, OPENEM_AUDIT_ANCHOR_SECONDS="0.2")))
    configure(db.engine, t)
    _write(db, 2)
    path = tmp_path / "anchors" / "audit.jsonl"
    deadline = time.monotonic() + 20
    while not (path.exists() and path.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [json.loads(x)["seq"] for x in path.read_text().splitlines()] == [2]
    assert _verify(db).anchored_seq == 2


def _edit(db):
    with db.uow() as uow:
        uow.session.execute(update(AuditRow).where(AuditRow.seq == 3).values(outcome="denied"))


def _delete(db):
    with db.uow() as uow:
        uow.session.execute(delete(AuditRow).where(AuditRow.seq == 3))


def _truncate(db):
    with db.uow() as uow:
        second = uow.session.get(AuditRow, 2)
        uow.session.execute(delete(AuditRow).where(AuditRow.seq > 2))
        uow.session.execute(update(AuditHeadRow).values(seq=2, hash=second.hash))


def _rechain(db):
    with db.uow() as uow:
        uow.session.execute(update(AuditRow).where(AuditRow.seq == 3).values(actor="forger"))
    _rechain_from(db, 3, _old_digest)


@pytest.mark.parametrize("tamper", [_edit, _delete, _truncate, _rechain], ids=lambda f: f.__name__.strip("_"))
def test_the_cli_exits_1_on_each_kind_of_tampering(db, trust, db_url, tmp_path, tamper):
    _write(db)
    trust.anchors.flush()
    tamper(db)
    bad = _cli(db_url, tmp_path, "verify")
    assert bad.returncode == 1 and json.loads(bad.stdout)["first_bad_seq"] == 3, bad.stdout + bad.stderr


def test_a_hostile_value_with_nul_is_audited_not_refused(db, trust):
    """A request path such as `/breaches/%00` reaches the audit log as a denied read; PostgreSQL refuses NUL
    in text and JSON, so the row is written with U+FFFD in its place and the chain still verifies."""
    with db.uow() as uow:
        audit.record(
            uow.session,
            actor="USR-1",
            action="web:/breaches/\x00:denied",
            records=["BRE-\x00"],
            outcome="denied",
            details={"reason": "no such breach", "path": "/x\x00y", "nested": [{"k\x00": "v\x00"}]},
        )
    with db.uow() as uow:
        row = uow.session.execute(select(AuditRow).order_by(AuditRow.seq.desc())).scalars().first()
        assert row.action == "web:/breaches/\ufffd:denied"
        assert row.records == ["BRE-\ufffd"]
        assert row.details["path"] == "/x\ufffdy"
        assert row.details["nested"] == [{"k\ufffd": "v\ufffd"}]
    assert _verify(db, trust).ok
