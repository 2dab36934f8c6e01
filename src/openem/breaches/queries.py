"""What other capabilities and pages may ask of breaches (plain values, never the ORM rows)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.breaches.tables import BreachPackRow, BreachRow

FORMATS = {"pdf": "application/pdf", "html": "text/html; charset=utf-8", "json": "application/json"}


def breach(session: Session, breach_id: str) -> dict[str, Any] | None:
    row = session.get(BreachRow, breach_id[:40])
    return None if row is None else {c.name: getattr(row, c.name) for c in BreachRow.__table__.columns}


def breaches_where(session: Session, *, agency: str | None = None, teams: set[str] | None = None,
                   officer: str | None = None, limit: int = 500) -> list[dict[str, Any]]:  # fmt: skip
    """Breaches for an agency (optionally its teams or an officer), newest first; all when nothing is given."""
    from sqlalchemy import or_

    q = select(BreachRow)
    if agency:
        q = q.where(BreachRow.agency == agency)
    if teams is not None or officer:
        conds: list[Any] = []
        if teams:
            conds.append(BreachRow.team.in_(sorted(teams)))
        if officer:
            conds.append(BreachRow.officer == officer)
        if not conds:
            return []
        q = q.where(or_(*conds))
    rows = session.scalars(q.order_by(BreachRow.confirmed_at.desc(), BreachRow.breach_id).limit(limit))
    return [{c.name: getattr(r, c.name) for c in BreachRow.__table__.columns} for r in rows]


def pack_versions(session: Session, breach_id: str) -> list[dict[str, Any]]:
    rows = session.execute(select(BreachPackRow.version, BreachPackRow.created_at, BreachPackRow.reason,
                                  BreachPackRow.sha256_pdf, BreachPackRow.sha256_html, BreachPackRow.sha256_json)
                           .where(BreachPackRow.breach_id == breach_id).order_by(BreachPackRow.version))  # fmt: skip
    return [dict(r._mapping) for r in rows]


def pack_file(
    session: Session, breach_id: str, version: int | None, fmt: str
) -> tuple[bytes, str, str] | None:
    """(bytes, media type, sha256) of one form of a pack version (the latest when version is None)."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    if version is None:
        row = session.scalars(select(BreachPackRow).where(BreachPackRow.breach_id == breach_id)
                              .order_by(BreachPackRow.version.desc()).limit(1)).first()  # fmt: skip
    else:
        row = session.get(BreachPackRow, (breach_id, int(version)))
    if row is None:
        return None
    if fmt == "pdf":
        return bytes(row.pdf), FORMATS[fmt], row.sha256_pdf
    if fmt == "html":
        return row.html.encode(), FORMATS[fmt], row.sha256_html
    return row.json_text.encode(), FORMATS[fmt], row.sha256_json


def pack_document(session: Session, breach_id: str, version: int | None = None) -> dict[str, Any] | None:
    q = select(BreachPackRow.document).where(BreachPackRow.breach_id == breach_id)
    if version is not None:
        q = q.where(BreachPackRow.version == version)
    found = session.execute(q.order_by(BreachPackRow.version.desc()).limit(1)).first()
    return None if found is None else dict(found[0])


def breaches_of_orders(session: Session, refs: list[str]) -> list[dict[str, Any]]:
    """The breaches confirmed on these orders with their responses (each agency's steps), oldest first: the
    person view's timeline (issue 15). Plain values: breach_id, order_ref, kinds, situation, confirmed_at,
    confirmed_by, decided_at, decision, state, and responses [{step, value, by, at, agency}]."""
    from openem.breaches.tables import BreachResponseRow

    if not refs:
        return []
    rows = session.scalars(
        select(BreachRow).where(BreachRow.order_ref.in_(sorted(set(refs)))).order_by(BreachRow.confirmed_at)
    ).all()
    ids = [r.breach_id for r in rows]
    responses: dict[str, list[dict[str, Any]]] = {i: [] for i in ids}
    if ids:
        resp = BreachResponseRow
        for r in session.scalars(
            select(resp).where(resp.breach_id.in_(ids)).order_by(resp.at, resp.response_id)
        ):
            responses[r.breach_id].append({"step": r.step, "value": r.value, "by": r.by, "at": r.at,
                                           "agency": r.agency})  # fmt: skip
    return [{"breach_id": r.breach_id, "order_ref": r.order_ref, "kinds": list(r.kinds or []),
             "situation": r.situation, "confirmed_at": r.confirmed_at, "confirmed_by": r.confirmed_by,
             "decided_at": r.decided_at, "decision": r.decision, "state": r.state,
             "responses": responses[r.breach_id]} for r in rows]  # fmt: skip
