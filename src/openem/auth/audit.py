"""The audit log: every state change and every read of personal or location data.

Rows are hash-chained: hash = sha256(prev_hash | canonical JSON of the row). Editing, deleting or reordering
a row breaks the chain from that row on, which `verify_chain` reports. Actions are tagged
`capability:subject:action`, e.g. `orders:ORD-1:submit` or `insights:PER-9:read_trail`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth.tables import AuditHeadRow, AuditRow
from openem.core.time import ensure_utc, iso, utcnow
from openem.store.db import AuditEntry, register_audit_writer

GENESIS = "0" * 64


def row_digest(prev_hash: str, seq: int, at: datetime, actor: str, action: str, records: list[str],
               purpose: str, outcome: str, details: dict[str, Any]) -> str:
    body = json.dumps(
        {"seq": seq, "at": iso(at), "actor": actor, "action": action, "records": records,
         "purpose": purpose, "outcome": outcome, "details": details},
        sort_keys=True, separators=(",", ":"), default=str,
    )
    return hashlib.sha256((prev_hash + "|" + body).encode("utf-8")).hexdigest()


def record(session: Session, *, actor: str, action: str, records: Iterable[str] = (), purpose: str = "",
           outcome: str = "ok", details: dict[str, Any] | None = None, at: datetime | None = None) -> AuditRow:
    """Append one audit row inside the caller's transaction."""
    at = ensure_utc(at) if at else utcnow()
    details = json.loads(json.dumps(details or {}, default=str))
    recs = [str(r) for r in records]
    head = session.execute(select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHeadRow(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    seq = head.seq + 1
    digest = row_digest(head.hash, seq, at, actor, action, recs, purpose, outcome, details)
    row = AuditRow(seq=seq, at=at, actor=actor, action=action, records=recs, purpose=purpose,
                   outcome=outcome, details=details, prev_hash=head.hash, hash=digest)
    session.add(row)
    head.seq = seq
    head.hash = digest
    session.flush()
    return row


def write_entries(session: Session, entries: list[AuditEntry]) -> None:
    """Write a unit of work's collected audit entries, in its transaction (called by the unit of work)."""
    for e in entries:
        record(session, actor=e.actor, action=e.action, records=e.records, purpose=e.purpose, outcome=e.outcome,
               details=e.details)


register_audit_writer(write_entries)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows: int
    first_bad_seq: int | None = None
    problem: str = ""


def verify_chain(session: Session, batch: int = 5000) -> ChainReport:
    prev = GENESIS
    expected_seq = 1
    count = 0
    last_seq = 0
    while True:
        rows = session.execute(
            select(AuditRow).where(AuditRow.seq > last_seq).order_by(AuditRow.seq).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for r in rows:
            if r.seq != expected_seq:
                return ChainReport(False, count, expected_seq, f"row {expected_seq} is missing")
            if r.prev_hash != prev:
                return ChainReport(False, count, r.seq, "previous-hash link does not match")
            digest = row_digest(prev, r.seq, r.at, r.actor, r.action, list(r.records or []), r.purpose or "",
                                r.outcome, dict(r.details or {}))
            if digest != r.hash:
                return ChainReport(False, count, r.seq, "row content does not match its hash (edited)")
            prev = r.hash
            expected_seq += 1
            count += 1
            last_seq = r.seq
        session.expunge_all()
    head = session.get(AuditHeadRow, 1)
    if head is not None and (head.seq != count or head.hash != prev):
        return ChainReport(False, count, count + 1, "rows after the last verified row were removed")
    return ChainReport(True, count)
