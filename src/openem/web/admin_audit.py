"""The audit log page: the chain check, then the records with who did it by name, filtered by person, action,
record and London dates, a page at a time, and the filtered records as a CSV file.

The export is itself audited (`auth:audit:export`, with its filters and row count): the audit log says who read
what, so taking a copy of it is a read worth knowing about.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from sqlalchemy import Select, String, cast, func, or_, select
from sqlalchemy.orm import Session

from openem.auth import audit
from openem.auth.tables import AuditRow, UserRow
from openem.core.time import local_to_utc, to_london
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, get_uow, require
from openem.web.rendering import render

router = APIRouter(include_in_schema=False)
READ = require("audit:read")
PAGE_SIZE = 50
EXPORT_BATCH = 2000


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""
    action: str = ""
    record: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_params(self) -> dict[str, str]:
        out = {"actor": self.actor, "action": self.action, "record": self.record}
        for name, d in (("from", self.date_from), ("to", self.date_to)):
            if d:
                out.update(
                    {f"{name}-day": str(d.day), f"{name}-month": str(d.month), f"{name}-year": str(d.year)}
                )
        return {k: v for k, v in out.items() if v}


def _date(q: Any, name: str, label: str, errors: list[tuple[str, str]]) -> tuple[date | None, dict[str, str]]:
    parts = {p: str(q.get(f"{name}-{p}", "")).strip()[:4] for p in ("day", "month", "year")}
    if not any(parts.values()):
        return None, parts
    try:
        return date(int(parts["year"]), int(parts["month"]), int(parts["day"])), parts
    except ValueError:
        errors.append((f"{name}-day", f"{label} must be a real date, like 27 3 2026"))
        return None, parts


def read_filters(q: Any) -> tuple[AuditFilters, dict[str, Any], list[tuple[str, str]]]:
    """The filters from the query string, what to show back in the form, and any errors."""
    errors: list[tuple[str, str]] = []
    d_from, from_parts = _date(q, "from", "The start date", errors)
    d_to, to_parts = _date(q, "to", "The end date", errors)
    if d_from and d_to and d_to < d_from:
        errors.append(("to-day", "The end date must be the same as or after the start date"))
        d_to = None
    f = AuditFilters(
        actor=str(q.get("actor", "")).strip()[:80],
        action=str(q.get("action", "")).strip()[:150],
        record=str(q.get("record", "")).strip()[:80],
        date_from=d_from,
        date_to=d_to,
    )
    return f, {"from": from_parts, "to": to_parts}, errors


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def audit_query(session: Session, f: AuditFilters) -> Select[Any]:
    stmt = select(AuditRow)
    if f.actor:
        # a person by username, name or id; or a non-person actor as written (anonymous, device:GW-1)
        wanted = f.actor.lower()
        ids = (
            session.execute(
                select(UserRow.id).where(
                    or_(
                        func.lower(UserRow.username) == wanted,
                        func.lower(UserRow.display_name) == wanted,
                        func.lower(UserRow.id) == wanted,
                    )
                )
            )
            .scalars()
            .all()
        )
        stmt = stmt.where(AuditRow.actor.in_([*ids, f.actor]))
    if f.action:
        stmt = stmt.where(AuditRow.action.like(_like(f.action) + "%", escape="\\"))
    if f.record:
        # the subject in the action (capability:SUBJECT:action) or one of the records the row names
        token = _like(f.record)
        stmt = stmt.where(
            or_(
                AuditRow.action.like(f"%:{token}:%", escape="\\"),
                cast(AuditRow.records, String).like(f'%"{token}"%', escape="\\"),
            )
        )
    if f.date_from:
        stmt = stmt.where(AuditRow.at >= local_to_utc(f.date_from, time(0)))
    if f.date_to:
        stmt = stmt.where(AuditRow.at < local_to_utc(f.date_to + timedelta(days=1), time(0)))
    return stmt


def names_of(session: Session, actors: set[str]) -> dict[str, str]:
    """Display names (with the username) of the actors that are users, by user id."""
    ids = [a for a in actors if a.startswith("USR")]
    if not ids:
        return {}
    rows = session.execute(
        select(UserRow.id, UserRow.display_name, UserRow.username).where(UserRow.id.in_(ids))
    )
    return {
        i: (f"{name} ({username})" if name and name != username else username) for i, name, username in rows
    }


def london(dt: datetime) -> str:
    """ "1 December 2026 at 8:31:05pm" in Europe/London."""
    t = to_london(dt)
    hour = t.hour % 12 or 12
    return f"{t.day} {t:%B %Y} at {hour}:{t:%M:%S}{'am' if t.hour < 12 else 'pm'}"


@router.get("/admin/audit")
def audit_page(
    request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(READ)
) -> Response:
    q = request.query_params
    f, typed, errors = read_filters(q)
    page = int(q["page"]) if q.get("page", "").isdigit() and 0 < int(q["page"]) < 10**6 else 1
    stmt = audit_query(uow.session, f)
    total = uow.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    rows = (
        uow.session.execute(
            stmt.order_by(AuditRow.seq.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
        )
        .scalars()
        .all()
    )
    names = names_of(uow.session, {r.actor for r in rows})
    return render(
        request,
        "admin_audit.html",
        {
            "report": audit.verify_chain(uow.session),
            "rows": rows,
            "names": names,
            "london": london,
            "filters": f,
            "typed": typed,
            "errors": errors,
            "total": total,
            "page": page,
            "pages": pages,
            "params": f.as_params(),
            "first": (page - 1) * PAGE_SIZE + 1 if total else 0,
            "last": min(page * PAGE_SIZE, total),
            "filtered": bool(f.as_params()),
        },
        status=422 if errors else 200,
    )


CSV_COLUMNS = [
    "seq",
    "when_london",
    "when_utc",
    "actor",
    "actor_name",
    "action",
    "records",
    "outcome",
    "purpose",
    "details",
]


def _cell(value: str) -> str:
    # a cell starting with = + - @ would run as a formula in a spreadsheet: quote it
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def csv_rows(db: Any, f: AuditFilters) -> Iterator[str]:
    """The filtered rows as CSV, oldest first, read in batches in its own transaction (the response streams
    after the request's unit of work has committed)."""
    buf = io.StringIO()
    out = csv.writer(buf)
    out.writerow(CSV_COLUMNS)
    last = 0
    with db.uow() as uow:
        while True:
            rows = (
                uow.session.execute(
                    audit_query(uow.session, f)
                    .where(AuditRow.seq > last)
                    .order_by(AuditRow.seq)
                    .limit(EXPORT_BATCH)
                )
                .scalars()
                .all()
            )
            if not rows:
                break
            names = names_of(uow.session, {r.actor for r in rows})
            for r in rows:
                out.writerow(
                    [
                        r.seq,
                        london(r.at),
                        r.at.isoformat(),
                        _cell(r.actor),
                        _cell(names.get(r.actor, "")),
                        _cell(r.action),
                        _cell(" ".join(r.records or [])),
                        r.outcome,
                        _cell(r.purpose or ""),
                        _cell(str(r.details or "")),
                    ]
                )
            last = rows[-1].seq
            uow.session.expunge_all()
            yield buf.getvalue()
            buf.seek(0)
            buf.truncate()
    yield buf.getvalue()


@router.get("/admin/audit/export.csv")
def audit_export(
    request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"), caller: Caller = Depends(READ)
) -> Response:
    f, _, errors = read_filters(request.query_params)
    if errors:
        return audit_page(request, uow, caller)
    stmt = audit_query(uow.session, f)
    count = uow.session.execute(select(func.count()).select_from(stmt.subquery())).scalar_one()
    audit.record(
        uow.session,
        actor=caller.actor,
        action="auth:audit:export",
        details={"filters": {k: str(v) for k, v in f.as_params().items()}, "rows": count},
    )
    name = f"openem-audit-{to_london(datetime.now().astimezone()):%Y-%m-%d-%H%M}.csv"
    return StreamingResponse(
        csv_rows(request.app.state.db, f),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
    )
