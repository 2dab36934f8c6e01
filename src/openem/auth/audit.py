"""The audit log: every state change and every read of personal or location data.

Rows are chained: each row's hash covers its content and the previous row's hash, MACed (HMAC-SHA256) under
a key kept outside the database and named in the row (`key_id`), so that editing, deleting, reordering or
re-chaining rows is found by `verify_chain` even if the culprit can write to the database (decision 0016).
Signed anchors of the head, written outside the database, catch rows cut from the end. Actions are tagged
`capability:subject:action`, e.g. `orders:ORD-1:submit` or `insights:PER-9:read_trail`.

Writers serialise on the one `audit_head` row, on both stores: PostgreSQL locks it (`FOR UPDATE`); SQLite
ignores that, so the head is first written to, which takes the database's write lock (shared by every
process using the file) before the head is read. The lock is held until the transaction ends, so the chain
never forks and no row is lost to a sequence clash.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from openem.auth.audit_digest import GENESIS, keyed_digest, row_digest
from openem.auth.audit_trust import engine_of, trust_for
from openem.auth.audit_verify import ChainReport, verify_chain
from openem.auth.tables import AuditHeadRow, AuditRow
from openem.core.time import ensure_utc, utcnow
from openem.store.db import AuditEntry, register_audit_writer

__all__ = ["GENESIS", "ChainReport", "lock_head", "record", "row_digest", "verify_chain"]

_PENDING = "openem_audit_pending"


def lock_head(session: Session) -> AuditHeadRow:
    """The chain's head, locked against other writers until this transaction ends (made if missing)."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(
            update(AuditHeadRow)
            .where(AuditHeadRow.id == 1)
            .values(seq=AuditHeadRow.seq)
            .execution_options(synchronize_session=False)
        )
        stmt = select(AuditHeadRow).where(AuditHeadRow.id == 1)
    else:
        stmt = select(AuditHeadRow).where(AuditHeadRow.id == 1).with_for_update()
    head = session.execute(stmt.execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        head = AuditHeadRow(id=1, seq=0, hash=GENESIS, legacy_until=0)
        session.add(head)
        session.flush()
    return head


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    records: Iterable[str] = (),
    purpose: str = "",
    outcome: str = "ok",
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditRow:
    """Append one audit row inside the caller's transaction."""
    at = ensure_utc(at) if at else utcnow()
    details = _storable(json.loads(json.dumps(details or {}, default=str)))
    recs = [_text(str(r)) for r in records]
    actor, action, purpose, outcome = _text(actor), _text(action), _text(purpose), _text(outcome)
    trust = trust_for(engine_of(session))
    head = lock_head(session)
    seq = head.seq + 1
    key_id = trust.keys.current_id
    digest = keyed_digest(
        trust.keys.secrets[key_id], key_id, head.hash, seq, at, actor, action, recs, purpose, outcome, details
    )
    row = AuditRow(
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        records=recs,
        purpose=purpose,
        outcome=outcome,
        details=details,
        prev_hash=head.hash,
        hash=digest,
        key_id=key_id,
    )
    session.add(row)
    head.seq = seq
    head.hash = digest
    session.flush()
    _anchor_after_commit(session, seq, digest)
    return row


def _text(value: str) -> str:
    """A string every store keeps as given: PostgreSQL refuses NUL in text and JSON, so a hostile value such
    as a request path with `%00` is written with U+FFFD in its place (the row says what came, never a 500)."""
    return value.replace("\x00", "\ufffd") if "\x00" in value else value


def _storable(value: Any) -> Any:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(str(k)): _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    return value


def write_entries(session: Session, entries: list[AuditEntry]) -> None:
    """Write a unit of work's collected audit entries, in its transaction (called by the unit of work)."""
    for e in entries:
        record(
            session,
            actor=e.actor,
            action=e.action,
            records=e.records,
            purpose=e.purpose,
            outcome=e.outcome,
            details=e.details,
        )


register_audit_writer(write_entries)


def _anchor_after_commit(session: Session, seq: int, digest: str) -> None:
    """Tell the anchor writer about the row once it is committed (never about one that rolls back)."""
    session.info[_PENDING] = (seq, digest)
    if session.info.get("openem_audit_listening"):
        return
    session.info["openem_audit_listening"] = True

    @event.listens_for(session, "after_commit")
    def committed(s: Session) -> None:
        pending = s.info.pop(_PENDING, None)
        if pending is not None:
            trust_for(engine_of(s)).anchors.committed(*pending)

    @event.listens_for(session, "after_rollback")
    def rolled_back(s: Session) -> None:
        s.info.pop(_PENDING, None)
