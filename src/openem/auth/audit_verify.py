"""Checking the audit chain: every row in order, linked, signed by a known key (or, up to the sealed
boundary, carrying the original digest), the head where the last row is, and every anchor written outside
the database still matching the row it names."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.auth.audit_anchors import Anchor, read_anchors
from openem.auth.audit_digest import GENESIS, keyed_digest, row_digest, same, seal_message
from openem.auth.audit_keys import KeyRing
from openem.auth.audit_trust import AuditTrust, engine_of, trust_for
from openem.auth.tables import AuditHeadRow, AuditRow


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    rows: int
    first_bad_seq: int | None = None
    problem: str = ""
    anchored_seq: int = 0  # the newest anchor checked (0: none)
    note: str = ""
    head_hash: str = ""  # the hash of the last row verified


class _Break(Exception):
    def __init__(self, seq: int | None, problem: str) -> None:
        self.seq = seq
        self.problem = problem


def verify_chain(session: Session, batch: int = 5000, trust: AuditTrust | None = None) -> ChainReport:
    trust = trust or trust_for(engine_of(session))
    anchors, unreadable = read_anchors(trust.anchors.paths)
    head = session.get(AuditHeadRow, 1)
    legacy_until = head.legacy_until if head is not None else 0
    progress = [0]
    try:
        _check_seal(trust.keys, head)
        forged = [a for a in anchors if not a.signed_by(trust.keys)]
        if forged:
            raise _Break(
                forged[0].seq, f"an anchor for row {forged[0].seq} is not signed by a known key (forged)"
            )
        wanted = {a.seq for a in anchors}
        upto = head.seq if head is not None else None  # rows committed after the head was read are not judged
        count, prev, seen = _walk(session, trust.keys, legacy_until, wanted, batch, progress, upto)
        _check_head(head, count, prev)
        if (
            head is not None
            and head.legacy_until
            and (head.legacy_until > count or not same(seen.get(head.legacy_until), head.legacy_hash))
        ):
            raise _Break(head.legacy_until, "the rows before the keyed chain do not match their seal")
        anchored = _check_anchors(anchors, count, seen)
    except _Break as exc:
        return ChainReport(False, progress[0], exc.seq, exc.problem)
    note = ""
    if count > legacy_until and not anchors:
        note = (
            "no anchor found yet: cutting rows from the end cannot be ruled out (run `openem audit anchor`)"
        )
    if unreadable:
        note = f"{unreadable} anchor line(s) could not be read"
    return ChainReport(True, count, anchored_seq=anchored, note=note, head_hash=prev)


def _check_seal(keys: KeyRing, head: AuditHeadRow | None) -> None:
    """Rows up to `legacy_until` keep the unkeyed digest only if a key vouches for that boundary."""
    if head is None or not head.legacy_until:
        return
    if not keys.knows(head.legacy_key_id) or not same(
        head.legacy_seal,
        keys.mac(head.legacy_key_id or "", seal_message(head.legacy_until, head.legacy_hash or "")),
    ):
        raise _Break(1, "the boundary of the unkeyed rows is not sealed by a known key (moved or re-chained)")


def _walk(
    session: Session,
    keys: KeyRing,
    legacy_until: int,
    wanted: set[int],
    batch: int,
    progress: list[int],
    upto: int | None,
) -> tuple[int, str, dict[int, str]]:
    prev, expected, count, last_seq = GENESIS, 1, 0, 0
    seen: dict[int, str] = {}
    while True:
        stmt = select(AuditRow).where(AuditRow.seq > last_seq)
        if upto is not None:
            stmt = stmt.where(AuditRow.seq <= upto)
        rows = session.execute(stmt.order_by(AuditRow.seq).limit(batch)).scalars().all()
        if not rows:
            return count, prev, seen
        for r in rows:
            if r.seq != expected:
                raise _Break(expected, f"row {expected} is missing")
            if r.prev_hash != prev:
                raise _Break(r.seq, "previous-hash link does not match")
            _check_row(keys, legacy_until, prev, r)
            if r.seq in wanted or r.seq == legacy_until:
                seen[r.seq] = r.hash
            prev, expected, count, last_seq = r.hash, expected + 1, count + 1, r.seq
            progress[0] = count
        session.expunge_all()


def _check_row(keys: KeyRing, legacy_until: int, prev: str, r: AuditRow) -> None:
    fields = (
        r.seq,
        r.at,
        r.actor,
        r.action,
        list(r.records or []),
        r.purpose or "",
        r.outcome,
        dict(r.details or {}),
    )
    if r.seq <= legacy_until:
        if r.key_id is not None or row_digest(prev, *fields) != r.hash:
            raise _Break(r.seq, "row content does not match its hash (edited)")
        return
    if r.key_id is None:
        raise _Break(
            r.seq, "row has no key id after the keyed-chain boundary (re-chained with the unkeyed digest)"
        )
    if not keys.knows(r.key_id):
        raise _Break(r.seq, f"row is signed with the unknown key {r.key_id!r} (keep old keys when rotating)")
    if not same(keyed_digest(keys.secrets[r.key_id], r.key_id, prev, *fields), r.hash):
        raise _Break(r.seq, "row content does not match its MAC (edited, or re-chained without the key)")


def _check_head(head: AuditHeadRow | None, count: int, prev: str) -> None:
    if head is not None and (head.seq != count or head.hash != prev):
        raise _Break(count + 1, "rows after the last verified row were removed")


def _check_anchors(anchors: list[Anchor], count: int, seen: dict[int, str]) -> int:
    newest = 0
    for a in anchors:
        if a.seq > count:
            raise _Break(
                count + 1,
                f"the chain ends at row {count} but row {a.seq} was anchored on {a.at} "
                "(rows cut from the end)",
            )
        if not same(seen.get(a.seq), a.hash):
            raise _Break(a.seq, f"row {a.seq} does not match its anchor of {a.at} (rewritten)")
        newest = max(newest, a.seq)
    return newest
