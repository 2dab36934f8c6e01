"""Rows written before the keyed chain: migration 0009 seals them, `verify` checks them with the old digest
up to that boundary and with the key after it, and tampering on either side is still detected."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from openem.auth import audit
from openem.auth.audit_digest import GENESIS
from openem.auth.tables import AuditHeadRow, AuditRow
from openem.store.db import Database
from openem.store.migrate import upgrade
from openem.store.types import UTCDateTime


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path, monkeypatch):
    """A database with no tables yet (the migrations are run by the test), and this test's key and anchors."""
    monkeypatch.setenv("OPENEM_AUDIT_KEY_FILE", str(tmp_path / "audit_keys.json"))
    monkeypatch.setenv("OPENEM_AUDIT_ANCHOR_PATH", str(tmp_path / "anchors.jsonl"))
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    from tests.conftest import PG_ADMIN_URL, PG_URL, _drop_pg, _pg_required

    _pg_required()
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"t_{uuid.uuid4().hex[:12]}"
    with admin.connect() as c:
        c.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = f"{PG_URL.rsplit('/', 1)[0]}/{name}"
    yield url
    _drop_pg(url)


def _write_unkeyed_rows(url, n):
    """Rows as the code before the keyed chain wrote them (plain sha256 chain)."""
    engine = sa.create_engine(Database(url).url)
    log = sa.table(
        "audit_log",
        sa.column("seq"),
        sa.column("at", UTCDateTime()),
        sa.column("actor"),
        sa.column("action"),
        sa.column("records", sa.JSON),
        sa.column("purpose"),
        sa.column("outcome"),
        sa.column("details", sa.JSON),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    head = sa.table("audit_head", sa.column("id"), sa.column("seq"), sa.column("hash"))
    prev = GENESIS
    start = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with engine.begin() as conn:
        for seq in range(1, n + 1):
            at = start + timedelta(minutes=seq)
            digest = audit.row_digest(
                prev, seq, at, "USR-OLD", f"orders:ORD-{seq}:read", [f"ORD-{seq}"], "", "ok", {}
            )
            conn.execute(
                log.insert().values(
                    seq=seq,
                    at=at,
                    actor="USR-OLD",
                    action=f"orders:ORD-{seq}:read",
                    records=[f"ORD-{seq}"],
                    purpose="",
                    outcome="ok",
                    details={},
                    prev_hash=prev,
                    hash=digest,
                )
            )
            prev = digest
        conn.execute(head.insert().values(id=1, seq=n, hash=prev))
    engine.dispose()


def _verify(db):
    with db.uow() as uow:
        return audit.verify_chain(uow.session)


def test_old_rows_are_sealed_and_verified_with_the_old_digest_then_keyed(empty_url):
    upgrade(empty_url, "0007")
    _write_unkeyed_rows(empty_url, 4)
    upgrade(empty_url)
    db = Database(empty_url)
    with db.uow() as uow:
        head = uow.session.get(AuditHeadRow, 1)
        assert head.legacy_until == 4 and head.legacy_seal
        audit.record(uow.session, actor="USR-NEW", action="orders:ORD-9:read", records=["ORD-9"])
    report = _verify(db)
    assert report.ok and report.rows == 5
    with db.uow() as uow:
        assert [
            r.key_id is None
            for r in uow.session.execute(sa.select(AuditRow).order_by(AuditRow.seq)).scalars()
        ] == [True, True, True, True, False]
        uow.session.execute(sa.update(AuditRow).where(AuditRow.seq == 2).values(actor="forger"))
    report = _verify(db)
    assert not report.ok and report.first_bad_seq == 2
    db.dispose()


def test_re_chaining_the_old_rows_breaks_their_seal(empty_url):
    upgrade(empty_url, "0007")
    _write_unkeyed_rows(empty_url, 3)
    upgrade(empty_url)
    db = Database(empty_url)
    with db.uow() as uow:
        rows = uow.session.execute(sa.select(AuditRow).order_by(AuditRow.seq)).scalars().all()
        rows[1].actor = "forger"
        prev = rows[0].hash
        for r in rows[1:]:
            r.prev_hash = prev
            r.hash = audit.row_digest(
                prev,
                r.seq,
                r.at,
                r.actor,
                r.action,
                list(r.records or []),
                r.purpose,
                r.outcome,
                dict(r.details or {}),
            )
            prev = r.hash
        uow.session.get(AuditHeadRow, 1).hash = prev
    report = _verify(db)
    assert not report.ok and report.first_bad_seq == 3 and "seal" in report.problem
    db.dispose()
