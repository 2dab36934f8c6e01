"""Crime matching's use cases: take a file from a force (any intake), keep what is valid as crime versions in one
transaction (nothing half-imported: a refused file keeps only its record and errors), run the matcher on the new
versions, and read batches, results and passes back. Every step writes an audit row."""

from __future__ import annotations

import csv
import hashlib
import io
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
import pyarrow as pa
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openem.auth import audit
from openem.core.ids import new_id
from openem.core.time import iso, utcnow
from openem.crime import matching, sources
from openem.crime.model import ParsedFile, force_by_identifier, policy
from openem.crime.rules import changed_fields, errors_csv_rows, parse_file, safe_cell
from openem.crime.tables import (
    CrimeBatchRow,
    CrimeMatchRow,
    CrimeMatchRunRow,
    CrimeRow,
    CrimeRowErrorRow,
    CrimeVersionRow,
)
from openem.devices.queries import all_activations
from openem.orders.queries import order_documents
from openem.store.db import UnitOfWork
from openem.telemetry.queries import trail_points_between

#: Positions a run in the server reads from the recent store at most (beyond it the run fails, saying so).
POINTS_LIMIT = 5_000_000


@dataclass
class Ingested:
    batch_key: str
    parsed: ParsedFile
    new_versions: list[str]
    duplicates: int

    @property
    def outcome(self) -> str:
        return self.parsed.outcome

    @property
    def exit_code(self) -> int:
        """0 every row accepted, 1 some rows refused, 2 the file refused."""
        return {"successful": 0, "partial": 1}.get(self.outcome, 2)


def crime_key(force: str, reference: str) -> str:
    return f"{force.upper()}|{reference.upper()}"


def ingest(uow: UnitOfWork, actor: str, data: bytes, *, filename: str = "", source: str = "upload",
           sender: str = "") -> Ingested:  # fmt: skip
    """Check a force's file and keep its valid crimes as versions (a refused file keeps nothing but its record)."""
    s = uow.session
    parsed = parse_file(data)
    now = utcnow()
    key = new_id("CB-")
    batch = CrimeBatchRow(
        batch_key=key, force=parsed.force, batch_id=parsed.batch_id, filename=filename[:200], source=source,
        sender=sender[:200], received_at=now, received_by=actor, sha256=hashlib.sha256(data).hexdigest(),
        size_bytes=len(data), rows=parsed.rows, accepted=0, refused=0, outcome=parsed.outcome,
        file_errors=[{"type": e.type, "message": e.message, "action": e.action} for e in parsed.file_errors],
    )  # fmt: skip
    s.add(batch)
    s.flush()
    for e in parsed.row_errors[:5000]:
        s.add(CrimeRowErrorRow(batch_key=key, row=e.row, type=e.type, field=e.field, value=e.value[:200],
                               action=e.action[:300]))  # fmt: skip
    new_versions: list[str] = []
    duplicates = 0
    if parsed.outcome != "failed":
        for c in parsed.crimes:
            ck = crime_key(c.force, c.reference)
            crime = s.get(CrimeRow, ck)
            fields = c.fields()
            if crime is None:
                crime = CrimeRow(crime_key=ck, force=c.force, reference=c.reference, latest_version=1,
                                 first_received_at=now)  # fmt: skip
                s.add(crime)
                status, version, changed = "new", 1, []
            else:
                last = s.execute(select(CrimeVersionRow).where(CrimeVersionRow.crime_key == ck,
                                 CrimeVersionRow.version == crime.latest_version,
                                 CrimeVersionRow.status != "duplicate")).scalars().first()  # fmt: skip
                changed = changed_fields(_fields_of(last), fields) if last else list(fields)
                if changed:
                    crime.latest_version += 1
                    status, version = "changed", crime.latest_version
                else:
                    status, version = "duplicate", crime.latest_version
                    duplicates += 1
            vk = new_id("CV-")
            s.add(CrimeVersionRow(
                version_key=vk, crime_key=ck, version=version, status=status, batch_key=key, row=c.row,
                crime_type=c.crime_type, date_from=c.date_from, date_to=c.date_to, lat=c.lat, lon=c.lon,
                easting=c.easting, northing=c.northing, text=c.text, changed=changed, received_at=now,
            ))  # fmt: skip
            if status != "duplicate":
                new_versions.append(vk)
            s.flush()
        batch.accepted = len(parsed.crimes)
    batch.refused = len({e.row for e in parsed.row_errors})
    batch.new_versions, batch.duplicates = len(new_versions), duplicates
    audit.record(
        s, actor=actor, action="crime:batch:ingest", records=[key, parsed.batch_id], purpose=f"intake by {source}",
        outcome="ok" if parsed.outcome != "failed" else "refused",
        details={"outcome": parsed.outcome, "rows": parsed.rows, "accepted": batch.accepted,
                 "refused": batch.refused, "new_versions": len(new_versions), "duplicates": duplicates,
                 "file_errors": [e.type for e in parsed.file_errors], "sha256": batch.sha256,
                 "filename": filename[:200], "sender": sender[:200]},
    )  # fmt: skip
    return Ingested(key, parsed, new_versions, duplicates)


def _fields_of(v: CrimeVersionRow) -> dict[str, Any]:
    return {
        "crime_type": v.crime_type,
        "date_from": v.date_from.isoformat(),
        "date_to": v.date_to.isoformat(),
        "lat": round(v.lat, 6),
        "lon": round(v.lon, 6),
        "easting": v.easting,
        "northing": v.northing,
        "text": v.text,
    }


def errors_csv(session: Session, batch_key: str) -> str:
    """The batch's errors as the CSV that goes back to the sender."""
    b = session.get(CrimeBatchRow, batch_key)
    if b is None:
        return ""
    parsed = ParsedFile()
    from openem.crime.model import FileError, RowError

    parsed.file_errors = [FileError(e["type"], e["message"], e["action"]) for e in b.file_errors]
    parsed.row_errors = [
        RowError(e.row, e.type, e.field, e.value, e.action)
        for e in session.execute(
            select(CrimeRowErrorRow)
            .where(CrimeRowErrorRow.batch_key == batch_key)
            .order_by(CrimeRowErrorRow.id)
        ).scalars()
    ]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerows(errors_csv_rows(parsed))
    return buf.getvalue()


# --- matching in the server ----------------------------------------------------------------------------------


def _windows(session: Session, version_keys: list[str]) -> list[matching.CrimeWindow]:
    rows = session.execute(
        select(CrimeVersionRow, CrimeRow.reference).join(CrimeRow, CrimeRow.crime_key == CrimeVersionRow.crime_key)
        .where(CrimeVersionRow.version_key.in_(version_keys))
    ).all()  # fmt: skip
    return [matching.CrimeWindow(v.version_key, ref, v.lat, v.lon, v.date_from, v.date_to) for v, ref in rows]


def permitted_wearers(session: Session) -> pa.Table:
    """GPS activations whose order permits crime matching (policy as data), from devices and orders queries."""
    acts = [a for a in all_activations(session) if str(a.get("device_kind")) == "GPS_TAG"
            and str(a.get("role") or "WEARER") == "WEARER"]  # fmt: skip
    docs = order_documents(session, {str(a["order_ref"]) for a in acts})
    ok = [a for a in acts if a["order_ref"] in docs and sources.permitted(docs[a["order_ref"]][0])]
    ts = pa.timestamp("us", tz="UTC")
    return pa.table({
        "person_id": pa.array([str(a["person_id"]) for a in ok], pa.string()),
        "device_id": pa.array([str(a["device_id"]) for a in ok], pa.string()),
        "start": pa.array([a["start"] for a in ok], ts),
        "end": pa.array([a["end"] for a in ok], ts),
    })  # fmt: skip


def queue_run(uow: UnitOfWork, actor: str, batch_key: str, *, trigger: str = "automatic") -> str:
    """A run record for the batch's crime versions (not duplicates), status "queued": the server's
    `CrimeRunner` takes it in the background (decision 0028), so the upload answers at once."""
    versions = [
        v.version_key for v, _ in versions_of_batch(uow.session, batch_key) if v.status != "duplicate"
    ]
    run = CrimeMatchRunRow(run_key=new_id("CR-"), batch_key=batch_key, algorithm=matching.ALGORITHM,
                           policy_version=str(policy()["version"]), trigger=trigger, status="queued",
                           started_at=utcnow(), started_by=actor, crimes=len(versions))  # fmt: skip
    uow.session.add(run)
    uow.session.flush()
    audit.record(uow.session, actor=actor, action="crime:run:queue", records=[run.run_key, batch_key],
                 purpose=f"crime matching ({trigger})", details={"crimes": len(versions)})  # fmt: skip
    return run.run_key


def process_queued(db: Any, limit: int = 10) -> list[str]:
    """Take queued runs, oldest first, each claimed by one worker (queued -> running in one UPDATE) and
    carried out in its own transaction. Returns the run keys done (or failed)."""
    from sqlalchemy import update

    with db.uow() as uow:
        q = select(CrimeMatchRunRow.run_key).where(CrimeMatchRunRow.status == "queued")
        keys = list(uow.session.execute(q.order_by(CrimeMatchRunRow.started_at).limit(limit)).scalars())
    done: list[str] = []
    for key in keys:
        with db.uow() as uow:
            claimed = uow.session.execute(
                update(CrimeMatchRunRow).where(CrimeMatchRunRow.run_key == key, CrimeMatchRunRow.status == "queued")
                .values(status="running")
            )  # fmt: skip
            if not getattr(claimed, "rowcount", 0):
                continue
        with db.uow() as uow:
            run = uow.session.get(CrimeMatchRunRow, key)
            assert run is not None
            versions = [v.version_key for v, _ in versions_of_batch(uow.session, run.batch_key)
                        if v.status != "duplicate"]  # fmt: skip
            _execute(uow, run, versions, queued_at=run.started_at)
        done.append(key)
    return done


def run_matching(uow: UnitOfWork, actor: str, version_keys: list[str], *, batch_key: str = "",
                 trigger: str = "automatic") -> str:  # fmt: skip
    """Match crime versions against the recent store's trails now (the CLI, the mailbox); store the run."""
    run = CrimeMatchRunRow(run_key=new_id("CR-"), batch_key=batch_key, algorithm=matching.ALGORITHM,
                           policy_version=str(policy()["version"]), trigger=trigger, status="running",
                           started_at=utcnow(), started_by=actor, crimes=len(version_keys))  # fmt: skip
    uow.session.add(run)
    uow.session.flush()
    return _execute(uow, run, version_keys)


def _execute(uow: UnitOfWork, run: CrimeMatchRunRow, version_keys: list[str],
             queued_at: datetime | None = None) -> str:  # fmt: skip
    s = uow.session
    actor, batch_key, trigger = run.started_by, run.batch_key, run.trigger
    t0 = time.perf_counter()
    if queued_at is not None:
        run.started_at = utcnow()
    windows = _windows(s, version_keys)
    timings: dict[str, float] = {}
    try:
        results: list[matching.CrimeResult] = []
        if windows:
            r0, r1 = matching.time_range(windows)
            points = trail_points_between(s, r0, r1, limit=POINTS_LIMIT)
            if len(points) >= POINTS_LIMIT:  # never a silent partial answer: say so, and match from the lake
                raise RuntimeError(
                    f"more than {POINTS_LIMIT:,} positions in the window: use openem crime match --lake"
                )
            wearers = permitted_wearers(s)
            timings["read_ms"] = round((time.perf_counter() - t0) * 1000, 1)
            con = duckdb.connect()
            try:
                pos, w = sources.arrow_views(con, _points_table(points), wearers)
                results = matching.match(con, pos, windows, w)
            finally:
                con.close()
        run.matches = store_results(s, run.run_key, results)
        run.status = "done"
    except Exception as exc:  # a run that fails is recorded as failed, never silently lost
        run.status, run.error = "failed", f"{type(exc).__name__}: {exc}"[:500]
    run.finished_at = utcnow()
    timings["total_ms"] = round((time.perf_counter() - t0) * 1000, 1)
    if queued_at is not None:
        timings["queued_ms"] = round((run.started_at - queued_at).total_seconds() * 1000, 1)
    run.timings = timings
    audit.record(s, actor=actor, action="crime:run:match", records=[run.run_key, batch_key],
                 purpose=f"crime matching ({trigger})", outcome="ok" if run.status == "done" else "failed",
                 details={"crimes": len(windows), "matches": run.matches, **timings})  # fmt: skip
    return run.run_key


def _points_table(points: list[tuple[Any, ...]]) -> pa.Table:
    cols: list[Any] = list(zip(*points, strict=True)) if points else [() for _ in range(6)]
    return pa.table(
        {
            "person_id": pa.array(cols[0], pa.string()),
            "device_id": pa.array(cols[1], pa.string()),
            "device_time": pa.array(cols[2], pa.timestamp("us", tz="UTC")),
            "lat": pa.array(cols[3], pa.float64()),
            "lon": pa.array(cols[4], pa.float64()),
            "accuracy_m": pa.array(cols[5], pa.float64()),
            "speed_mps": pa.nulls(len(points), pa.float64()),
            "heading_deg": pa.nulls(len(points), pa.float64()),
        }
    )


def _json_point(p: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (iso(v) if isinstance(v, datetime) else v)
        for k, v in p.items()
        if k not in ("person_id", "device_id")
    }


def store_results(s: Session, run_key: str, results: list[matching.CrimeResult]) -> int:
    n = 0
    for r in results:
        for p in r.passes:
            trail = [_json_point(x) for x in r.trails.get(p.device_id, [])]
            s.add(CrimeMatchRow(run_key=run_key, version_key=r.crime.key, status="match", person_id=p.person_id,
                                device_id=p.device_id, pass_label=p.label, closest_m=p.closest_m,
                                first_seen=p.first_seen, last_seen=p.last_seen, confidence=p.confidence,
                                detail={"closest_accuracy_m": p.closest_accuracy_m, "positions": p.positions,
                                        "entry": p.entry_bearing, "exit": p.exit_bearing,
                                        "minutes_inside": p.minutes_inside, "trail": trail}))  # fmt: skip
            n += 1
        for u in r.unknown:
            s.add(CrimeMatchRow(run_key=run_key, version_key=r.crime.key, status="unknown", person_id=u.person_id,
                                device_id=u.device_id, first_seen=u.gap_start, last_seen=u.gap_end,
                                detail={"reason": "gap in the trail while the scene was reachable"}))  # fmt: skip
        s.add(CrimeMatchRow(run_key=run_key, version_key=r.crime.key, status="summary",
                            detail={"considered": r.considered, "ruled_out": r.ruled_out,
                                    "matched": len({p.device_id for p in r.passes}),
                                    "unknown": len({u.device_id for u in r.unknown})}))  # fmt: skip
    s.flush()
    return n


# --- reading back --------------------------------------------------------------------------------------------


def visible_forces(principal: Any) -> set[str] | None:
    """None: every force (hub caseworkers and managers); otherwise the police officer's own force only."""
    if principal.has("crime_matching:run"):
        return None
    f = force_by_identifier(principal.police_area) if principal.police_area else None
    from openem.crime.model import force_by_police_area

    f = f or force_by_police_area(principal.police_area)
    return {f.identifier} if f else set()


def batches(session: Session, forces: set[str] | None, limit: int = 100) -> list[CrimeBatchRow]:
    q = select(CrimeBatchRow).order_by(CrimeBatchRow.received_at.desc()).limit(limit)
    if forces is not None:
        q = q.where(CrimeBatchRow.force.in_(sorted(forces)))
    return list(session.execute(q).scalars())


def batch(session: Session, key: str) -> CrimeBatchRow | None:
    return session.get(CrimeBatchRow, key[:40])


def row_errors(session: Session, key: str, limit: int = 500) -> list[CrimeRowErrorRow]:
    q = select(CrimeRowErrorRow).where(CrimeRowErrorRow.batch_key == key).order_by(CrimeRowErrorRow.id)
    return list(session.execute(q.limit(limit)).scalars())


def versions_of_batch(session: Session, key: str) -> list[tuple[CrimeVersionRow, str]]:
    rows = session.execute(
        select(CrimeVersionRow, CrimeRow.reference).join(CrimeRow, CrimeRow.crime_key == CrimeVersionRow.crime_key)
        .where(CrimeVersionRow.batch_key == key).order_by(CrimeVersionRow.row)
    ).all()  # fmt: skip
    return [(v, ref) for v, ref in rows]


def latest_run(session: Session, batch_key: str) -> CrimeMatchRunRow | None:
    q = select(CrimeMatchRunRow).where(CrimeMatchRunRow.batch_key == batch_key)
    return session.execute(q.order_by(CrimeMatchRunRow.started_at.desc()).limit(1)).scalars().first()


def results_of_run(session: Session, run_key: str) -> list[CrimeMatchRow]:
    q = select(CrimeMatchRow).where(CrimeMatchRow.run_key == run_key).order_by(CrimeMatchRow.id)
    return list(session.execute(q).scalars())


def match_row(session: Session, match_id: int) -> tuple[CrimeMatchRow, CrimeVersionRow, CrimeRow] | None:
    m = session.get(CrimeMatchRow, match_id)
    if m is None or m.status != "match":
        return None
    v = session.get(CrimeVersionRow, m.version_key)
    c = session.get(CrimeRow, v.crime_key) if v else None
    return (m, v, c) if v and c else None


def count_batches(session: Session) -> int:
    return int(session.execute(select(func.count()).select_from(CrimeBatchRow)).scalar_one())


def results_csv(rows: list[dict[str, Any]]) -> str:
    """results.csv: one line per pass or unknown wearer; text cells guarded against formula injection."""
    cols = ["crime_reference", "crime_version", "status", "person_id", "device_id", "pass_label", "closest_m",
            "closest_accuracy_m", "first_seen", "last_seen", "positions", "minutes_inside", "entry_bearing",
            "exit_bearing", "confidence"]  # fmt: skip
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([safe_cell(r.get(c, "")) for c in cols])
    return buf.getvalue()


def search_place(session: Session, lat: float, lon: float, start: datetime, end: datetime,
                 radius_m: float) -> matching.CrimeResult:  # fmt: skip
    """Who was within `radius_m` (+ accuracy) of a place in a window (at most 48 hours): the location search."""
    window = matching.CrimeWindow("search", "search", lat, lon, start, end)
    pol = {**policy(), "radius_m": radius_m}
    r0, r1 = matching.time_range([window], pol)
    points = trail_points_between(session, r0, r1, limit=POINTS_LIMIT)
    con = duckdb.connect()
    try:
        pos, w = sources.arrow_views(con, _points_table(points), permitted_wearers(session))
        return matching.match(con, pos, [window], w, pol)[0]
    finally:
        con.close()
