"""Crime matching pages and API for hub caseworkers and managers (every force) and police officers (their own
force's batches only; anything else answers as missing, audited). Uploading needs `crime_matching:run`. Reading
matches (people and their positions) asks the purpose, as the person view does, and audits what was shown."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from openem.auth import audit
from openem.auth.roles import Role
from openem.core.errors import Invalid
from openem.core.ids import new_id
from openem.core.time import iso, utcnow
from openem.crime import evidence, service
from openem.crime.model import CRIME_TYPES, policy
from openem.crime.tables import CrimeBatchRow, CrimeEvidenceRow
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, deny_as_missing, get_uow, read_form, require
from openem.web.rendering import render

router = APIRouter()
MISSING = "There is no such batch"


def crime_reader(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("location:read")),
) -> Caller:
    """Hub roles and police officers only (probation and the monitoring centre have the person view)."""
    assert caller.principal is not None
    if not (caller.principal.has("crime_matching:run") or caller.principal.has_role(Role.POLICE_OFFICER)):
        from openem.web.deps import deny

        deny(request, uow, caller, "crime matching is for the hub and police")
    return caller


def stated_purpose(caller: Caller, purpose: str, reference: str) -> str:
    assert caller.principal is not None
    purpose, reference = " ".join(purpose.split())[:400], " ".join(reference.split())[:60]
    if len(purpose) < 5:
        raise Invalid("Say why you are looking (at least 5 characters): it is recorded with what you see")
    if caller.principal.has_role(Role.POLICE_OFFICER) and not reference:
        raise Invalid("Give the crime or incident reference this look is for")
    return f"{purpose} [ref {reference}]" if reference else purpose


def load_batch(request: Request, uow: UnitOfWork, caller: Caller, key: str) -> CrimeBatchRow:
    assert caller.principal is not None
    b = service.batch(uow.session, key)
    forces = service.visible_forces(caller.principal)
    if b is None or (forces is not None and b.force not in forces):
        deny_as_missing(
            request, caller, "batch of another force" if b else "no such batch", MISSING, [key[:40]]
        )
    assert b is not None
    return b


# --- dashboard and intake -------------------------------------------------------------------------------------


@router.get("/crime", include_in_schema=False)
def dashboard(request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
              caller: Caller = Depends(crime_reader)) -> Response:  # fmt: skip
    assert caller.principal is not None
    rows = service.batches(uow.session, service.visible_forces(caller.principal))
    audit.record(uow.session, actor=caller.actor, action="crime:batches:list", records=[b.batch_key for b in rows],
                 purpose="ingestion dashboard")  # fmt: skip
    return render(request, "crime/dashboard.html", {"batches": rows, "can_upload": caller.principal.has("crime_matching:run"),
                                                     "error": ""})  # fmt: skip


def _runner(request: Request) -> Any:
    """The server's background runner when it is going (a served app); None in an app without one."""
    runner = getattr(request.app.state, "crime_runner", None)
    return runner if runner is not None and runner.running else None


def _match_batch(request: Request, uow: UnitOfWork, actor: str, batch_key: str, versions: list[str],
                 trigger: str) -> None:  # fmt: skip
    """Queue a run for the background runner (the request answers at once; the page polls the run), or, in an
    app without a runner, match now."""
    runner = _runner(request)
    if runner is None:
        service.run_matching(uow, actor, versions, batch_key=batch_key, trigger=trigger)
        return
    service.queue_run(uow, actor, batch_key, trigger=trigger)
    uow.after_commit(runner.wake)  # woken once the run is visible to it


def _ingest_and_match(
    request: Request, uow: UnitOfWork, caller: Caller, data: bytes, filename: str, source: str
) -> service.Ingested:
    got = service.ingest(uow, caller.actor, data, filename=filename, source=source)
    if got.new_versions:
        _match_batch(request, uow, caller.actor, got.batch_key, got.new_versions, "automatic")
    return got


async def _upload_bytes(form: Any) -> tuple[bytes, str]:
    upload = form.get("file")
    if upload is None or not hasattr(upload, "read"):
        return b"", ""
    data = await upload.read(int(policy()["max_file_bytes"]) + 1)
    return data, str(getattr(upload, "filename", "") or "")[:200]


@router.post("/crime/batches", include_in_schema=False, dependencies=[Depends(csrf_protect)])
async def upload_page(request: Request, form: Any = Depends(read_form)) -> Response:
    data, name = await _upload_bytes(form)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_upload_sync, request, data, name)


def _upload_sync(request: Request, data: bytes, name: str) -> Response:
    db = request.app.state.db
    with db.uow() as uow:
        from openem.web.deps import identify

        caller = identify(request, uow)
        if caller.principal is None or not caller.principal.has("crime_matching:run"):
            from openem.web.deps import deny

            deny(request, uow, caller, "needs crime_matching:run")
        if not data:
            rows = service.batches(uow.session, None)
            return render(request, "crime/dashboard.html", {"batches": rows, "can_upload": True,
                          "error": "Select a crime file (CSV) to upload"}, status=400)  # fmt: skip
        got = _ingest_and_match(request, uow, caller, data, name, "upload")
        key = got.batch_key
    return RedirectResponse(f"/crime/batches/{key}", status_code=303)


@router.post("/api/crime/batches", tags=["crime"], dependencies=[Depends(csrf_protect)])
async def api_upload(request: Request, form: Any = Depends(read_form)) -> Response:
    """A force's file as multipart `file`: 200 with the outcome and every refusal (201 once stored)."""
    data, name = await _upload_bytes(form)
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(_api_sync, request, data, name)


def _api_sync(request: Request, data: bytes, name: str) -> Response:
    with request.app.state.db.uow() as uow:
        from openem.web.deps import deny, identify

        caller = identify(request, uow)
        if caller.principal is None or not caller.principal.has("crime_matching:run"):
            deny(request, uow, caller, "needs crime_matching:run")
        got = _ingest_and_match(request, uow, caller, data, name, "api")
        body = {
            "batch": got.batch_key, "outcome": got.outcome, "accepted": len(got.parsed.crimes),
            "new_versions": len(got.new_versions), "duplicates": got.duplicates,
            "file_errors": [{"type": e.type, "message": e.message, "action": e.action} for e in got.parsed.file_errors],
            "row_errors": [{"row": e.row, "type": e.type, "field": e.field, "value": e.value, "action": e.action}
                           for e in got.parsed.row_errors[:1000]],
        }  # fmt: skip
    status = {"successful": 201, "partial": 201}.get(got.outcome, 422)
    return Response(json.dumps(body), status_code=status, media_type="application/json")


# --- a batch --------------------------------------------------------------------------------------------------


@router.get("/crime/batches/{key}", include_in_schema=False)
def batch_page(key: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
               caller: Caller = Depends(crime_reader)) -> Response:  # fmt: skip
    b = load_batch(request, uow, caller, key)
    versions = service.versions_of_batch(uow.session, b.batch_key)
    errors = service.row_errors(uow.session, b.batch_key)
    run = service.latest_run(uow.session, b.batch_key)
    audit.record(uow.session, actor=caller.actor, action="crime:batch:read", records=[b.batch_key],
                 purpose="batch result")  # fmt: skip
    return render(request, "crime/batch.html", {"b": b, "versions": versions, "errors": errors, "run": run,
                  "types": CRIME_TYPES, "can_run": caller.principal is not None and caller.principal.has("crime_matching:run"),
                  "police": caller.principal is not None
                  and caller.principal.has_role(Role.POLICE_OFFICER)})  # fmt: skip


@router.get("/crime/batches/{key}/errors.csv", include_in_schema=False)
def errors_csv(key: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
               caller: Caller = Depends(crime_reader)) -> Response:  # fmt: skip
    b = load_batch(request, uow, caller, key)
    audit.record(uow.session, actor=caller.actor, action="crime:batch:errors_export", records=[b.batch_key],
                 purpose="errors back to the sender")  # fmt: skip
    return Response(service.errors_csv(uow.session, b.batch_key), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="errors-{b.batch_key}.csv"'})  # fmt: skip


def _matches(uow: UnitOfWork, b: CrimeBatchRow) -> tuple[Any, list[dict[str, Any]]]:
    run = service.latest_run(uow.session, b.batch_key)
    refs = {v.version_key: (ref, v) for v, ref in service.versions_of_batch(uow.session, b.batch_key)}
    rows: list[dict[str, Any]] = []
    for m in service.results_of_run(uow.session, run.run_key) if run else []:
        ref, v = refs.get(m.version_key, ("", None))
        rows.append({"id": m.id, "crime_reference": ref, "crime_version": v.version if v else "", "status": m.status,
                     "person_id": m.person_id, "device_id": m.device_id, "pass_label": m.pass_label,
                     "closest_m": m.closest_m, "closest_accuracy_m": (m.detail or {}).get("closest_accuracy_m", ""),
                     "first_seen": m.first_seen, "last_seen": m.last_seen, "confidence": m.confidence,
                     "positions": (m.detail or {}).get("positions", ""),
                     "minutes_inside": (m.detail or {}).get("minutes_inside", ""),
                     "entry_bearing": (m.detail or {}).get("entry", ""), "exit_bearing": (m.detail or {}).get("exit", ""),
                     "summary": m.detail if m.status == "summary" else None})  # fmt: skip
    return run, rows


@router.get("/crime/batches/{key}/matches", include_in_schema=False)
def matches_page(key: str, request: Request, purpose: str = Query("", max_length=500),
                 reference: str = Query("", max_length=100), fmt: str = Query("html", max_length=4),
                 uow: UnitOfWork = Depends(get_uow, scope="function"),
                 caller: Caller = Depends(crime_reader)) -> Response:  # fmt: skip
    b = load_batch(request, uow, caller, key)
    ctx: dict[str, Any] = {"b": b, "purpose": purpose, "reference": reference, "error": "", "shown": False,
                           "police": caller.principal is not None and caller.principal.has_role(Role.POLICE_OFFICER)}  # fmt: skip
    try:
        why = stated_purpose(caller, purpose, reference)
    except Invalid as e:
        ctx["error"] = str(e) if purpose or reference else ""
        return render(request, "crime/matches.html", ctx, status=400 if fmt == "csv" else 200)
    run, rows = _matches(uow, b)
    people = sorted({r["person_id"] for r in rows if r["person_id"]})
    audit.record(uow.session, actor=caller.actor, action=f"crime:matches:{'export' if fmt == 'csv' else 'read'}",
                 records=[b.batch_key, *people], purpose=why, details={"rows": len(rows)})  # fmt: skip
    if fmt == "csv":
        out = [{**r, "first_seen": iso(r["first_seen"]) if r["first_seen"] else "",
                "last_seen": iso(r["last_seen"]) if r["last_seen"] else ""} for r in rows if r["status"] != "summary"]  # fmt: skip
        return Response(service.results_csv(out), media_type="text/csv",
                        headers={"Content-Disposition": f'attachment; filename="results-{b.batch_key}.csv"'})  # fmt: skip
    ctx |= {"shown": True, "run": run, "rows": [r for r in rows if r["status"] != "summary"],
            "summaries": {r["crime_reference"]: r["summary"] for r in rows if r["status"] == "summary"},
            "query": request.url.query}  # fmt: skip
    return render(request, "crime/matches.html", ctx)


# --- one match: evidence view and PDF -------------------------------------------------------------------------


def _evidence_ctx(request: Request, uow: UnitOfWork, caller: Caller, match_id: int, purpose: str,
                  reference: str) -> dict[str, Any]:  # fmt: skip
    found = service.match_row(uow.session, match_id)
    if found is None:
        deny_as_missing(request, caller, "no such match", "There is no such match", [str(match_id)])
    assert found is not None
    m, v, c = found
    load_batch(request, uow, caller, v.batch_key)  # a police officer's own force only
    why = stated_purpose(caller, purpose, reference)
    trail = (m.detail or {}).get("trail", [])

    title = f"Map of pass {m.pass_label} near crime {c.reference}"
    return {"m": m, "v": v, "c": c, "why": why, "trail": trail, "type": CRIME_TYPES.get(v.crime_type, v.crime_type),
            "svg": evidence.svg_map(v.lat, v.lon, trail, m.pass_label, title), "method": evidence.method_text(),
            "radius": policy()["radius_m"], "purpose": purpose, "reference": reference, "iso": iso}  # fmt: skip


@router.get("/crime/matches/{match_id}", include_in_schema=False)
def evidence_page(match_id: int, request: Request, purpose: str = Query("", max_length=500),
                  reference: str = Query("", max_length=100), uow: UnitOfWork = Depends(get_uow, scope="function"),
                  caller: Caller = Depends(crime_reader)) -> Response:  # fmt: skip
    try:
        ctx = _evidence_ctx(request, uow, caller, match_id, purpose, reference)
    except Invalid as e:
        return render(request, "crime/ask_purpose.html", {"error": str(e) if purpose else "", "match_id": match_id,
                      "purpose": purpose, "reference": reference,
                      "police": caller.principal is not None and caller.principal.has_role(Role.POLICE_OFFICER)})  # fmt: skip
    audit.record(uow.session, actor=caller.actor, action="crime:evidence:read", records=[str(match_id), ctx["m"].person_id],
                 purpose=ctx["why"], details={"positions": len(ctx["trail"])})  # fmt: skip
    return render(request, "crime/evidence.html", {**ctx, "query": request.url.query})


@router.get("/crime/matches/{match_id}/evidence.pdf", include_in_schema=False)
def evidence_pdf(match_id: int, request: Request, purpose: str = Query("", max_length=500),
                 reference: str = Query("", max_length=100), uow: UnitOfWork = Depends(get_uow, scope="function"),
                 caller: Caller = Depends(crime_reader)) -> Response:  # fmt: skip
    return _issue("pdf", match_id, request, purpose, reference, uow, caller)


@router.get("/crime/matches/{match_id}/evidence.docx", include_in_schema=False)
def evidence_docx(match_id: int, request: Request, purpose: str = Query("", max_length=500),
                  reference: str = Query("", max_length=100), uow: UnitOfWork = Depends(get_uow, scope="function"),
                  caller: Caller = Depends(crime_reader)) -> Response:  # fmt: skip
    return _issue("docx", match_id, request, purpose, reference, uow, caller)


DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def _issue(fmt: str, match_id: int, request: Request, purpose: str, reference: str, uow: UnitOfWork,
           caller: Caller) -> Response:  # fmt: skip
    """The evidence report as PDF or DOCX, hashed and kept. Only a hub manager (`crime_matching:approve`) produces
    the exhibit with the s.9 witness statement they sign; anyone else gets the hub's working copy without it."""
    assert caller.principal is not None
    ctx = _evidence_ctx(request, uow, caller, match_id, purpose, reference)
    key = new_id("EV-")
    statement = caller.principal.has("crime_matching:approve")
    ctx |= {
        "exhibit": key,
        "issued_at": utcnow(),
        "issued_by": caller.actor,
        "statement": statement,
        "signer": caller.principal.username,
    }
    if fmt == "docx":
        data, digest = evidence.docx(ctx, statement=statement)
        media = DOCX_TYPE
    else:
        html = request.app.state.templates.get_template("crime/report.html").render(ctx)
        data, digest = evidence.pdf(html)
        media = "application/pdf"
    uow.session.add(CrimeEvidenceRow(evidence_key=key, match_id=match_id, sha256=digest, issued_at=utcnow(),
                                     issued_by=caller.actor, pdf=data))  # fmt: skip
    audit.record(uow.session, actor=caller.actor, action="crime:evidence:export", records=[key, str(match_id), ctx["m"].person_id],
                 purpose=ctx["why"], details={"sha256": digest, "bytes": len(data), "format": fmt,
                                              "s9_statement": statement})  # fmt: skip
    return Response(data, media_type=media, headers={
        "Content-Disposition": f'attachment; filename="evidence-{key}.{fmt}"', "X-Evidence-SHA256": digest,
        "Cache-Control": "no-store"})  # fmt: skip


@router.post("/crime/batches/{key}/match", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def rematch(key: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
            caller: Caller = Depends(require("crime_matching:run"))) -> Response:  # fmt: skip
    """Match the batch's crime versions again (trigger "manual"): new positions may have arrived since."""
    b = load_batch(request, uow, caller, key)
    versions = [
        v.version_key
        for v, _ in service.versions_of_batch(uow.session, b.batch_key)
        if v.status != "duplicate"
    ]
    _match_batch(request, uow, caller.actor, b.batch_key, versions, "manual")
    return RedirectResponse(f"/crime/batches/{b.batch_key}", status_code=303)


@router.get("/api/crime/batches/{key}", tags=["crime"])
def api_batch(key: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
              caller: Caller = Depends(crime_reader)) -> dict[str, Any]:  # fmt: skip
    """A batch's outcome, errors and latest run (no personal data: matches are read with a purpose)."""
    b = load_batch(request, uow, caller, key)
    run = service.latest_run(uow.session, b.batch_key)
    audit.record(
        uow.session, actor=caller.actor, action="crime:batch:read", records=[b.batch_key], purpose="api"
    )
    return {
        "batch": b.batch_key, "force": b.force, "batch_id": b.batch_id, "outcome": b.outcome, "rows": b.rows,
        "accepted": b.accepted, "refused": b.refused, "new_versions": b.new_versions, "duplicates": b.duplicates,
        "file_errors": b.file_errors,
        "row_errors": [{"row": e.row, "type": e.type, "field": e.field, "value": e.value, "action": e.action}
                       for e in service.row_errors(uow.session, b.batch_key)],
        "run": None if run is None else {"run": run.run_key, "algorithm": run.algorithm, "policy": run.policy_version,
                                         "trigger": run.trigger, "status": run.status, "timings": run.timings,
                                         "crimes": run.crimes, "matches": run.matches, "error": run.error,
                                         "started_at": iso(run.started_at),
                                         "finished_at": iso(run.finished_at) if run.finished_at else None},
    }  # fmt: skip


# --- location search --------------------------------------------------------------------------------------------

SEARCH_MAX = 48 * 3600


def _search_inputs(
    lat: str, lon: str, start: str, end: str, radius: str
) -> tuple[float, float, Any, Any, float]:
    from datetime import UTC, datetime

    from openem.crime.rules import in_england_wales

    try:
        la, lo = float(lat), float(lon)
    except ValueError:
        raise Invalid("Give the place as a latitude and longitude, for example 52.4800 and -1.9000") from None
    if not in_england_wales(la, lo):
        raise Invalid("The place must be in England or Wales")
    try:
        frm = datetime.fromisoformat(start.strip()[:40].replace("Z", "+00:00"))
        to = datetime.fromisoformat(end.strip()[:40].replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("Give the window as dates and times, for example 2026-12-01T10:00") from None
    from openem.core.time import LONDON

    frm = frm if frm.tzinfo else frm.replace(tzinfo=LONDON)
    to = to if to.tzinfo else to.replace(tzinfo=LONDON)
    frm, to = frm.astimezone(UTC), to.astimezone(UTC)
    if to <= frm:
        raise Invalid("The end of the window must be after its start")
    if (to - frm).total_seconds() > SEARCH_MAX:
        raise Invalid("A search window is at most 48 hours")
    try:
        r = float(radius or policy()["radius_m"])
    except ValueError:
        raise Invalid("Give the radius in metres") from None
    if not 10 <= r <= 1000:
        raise Invalid("The radius must be between 10 and 1,000 metres")
    return la, lo, frm, to, r


@router.get("/crime/search", include_in_schema=False)
def search_page(request: Request, lat: str = Query("", max_length=20), lon: str = Query("", max_length=20),
                start: str = Query("", alias="from", max_length=40), end: str = Query("", alias="to", max_length=40),
                radius: str = Query("", max_length=8), purpose: str = Query("", max_length=500),
                reference: str = Query("", max_length=100), fmt: str = Query("html", max_length=4),
                uow: UnitOfWork = Depends(get_uow, scope="function"),
                caller: Caller = Depends(require("crime_matching:run"))) -> Response:  # fmt: skip
    """A place and a window up to 48 hours: the wearers there, as a table or CSV (hub roles; audited)."""
    ctx: dict[str, Any] = {"lat": lat, "lon": lon, "start": start, "end": end, "radius": radius,
                           "purpose": purpose, "reference": reference, "error": "", "result": None, "police": False}  # fmt: skip
    if not (lat or lon or start or end):
        return render(request, "crime/search.html", ctx)
    try:
        la, lo, frm, to, r = _search_inputs(lat, lon, start, end, radius)
        why = stated_purpose(caller, purpose, reference)
    except Invalid as e:
        ctx["error"] = str(e)
        return render(request, "crime/search.html", ctx, status=400 if fmt == "csv" else 200)
    result = service.search_place(uow.session, la, lo, frm, to, r)
    people = sorted({p.person_id for p in result.passes} | {u.person_id for u in result.unknown})
    audit.record(uow.session, actor=caller.actor, action=f"crime:search:{'export' if fmt == 'csv' else 'read'}",
                 records=people, purpose=why,
                 details={"lat": la, "lon": lo, "from": frm.isoformat(), "to": to.isoformat(), "radius_m": r})  # fmt: skip
    if fmt == "csv":
        from openem.crime.offline import result_rows

        return Response(service.results_csv(result_rows([result])), media_type="text/csv",
                        headers={"Content-Disposition": 'attachment; filename="location-search.csv"'})  # fmt: skip
    ctx |= {"result": result, "query": request.url.query}
    return render(request, "crime/search.html", ctx)
