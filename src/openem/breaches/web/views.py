"""Pages and JSON API: the agency inbox (/breaches), a breach (/breaches/ID: summary, map, clocks beside the
contract's deadlines, pack versions with their hashes, deliveries, responses and the response form), pack
downloads, the in-app message inbox (/inbox). Every read is audited with its purpose; a breach outside the
caller's reach answers as a missing one (404) and the refusal is audited."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, NoReturn

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel, Field

from openem.auth import audit
from openem.breaches import queries, rules, service, svgmap
from openem.breaches.model import DECISION_STEP, DECISIONS, LABELS, STEPS, ResponseRefused
from openem.breaches.web.access import agency_of, inboxes_of, visible
from openem.core.errors import Conflict, Forbidden, Invalid, NotFound
from openem.core.time import iso
from openem.notify import queries as notify_queries
from openem.notify.service import acknowledge
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, deny_as_missing, get_uow, read_form, require
from openem.web.rendering import as_datetime, london_time, render

router = APIRouter()
WRITE = [Depends(csrf_protect)]
MISSING = "There is no such breach"
STAGE_LABELS = {"violation_start": "Violation started", "detected": "Detected by the engine",
                "incident": "Incident opened", "confirmed": "Breach confirmed", "pack": "Breach pack made",
                "delivered": "Pack delivered to the inbox", "acknowledged": "Acknowledged by the agency",
                "decision": "Decision recorded", "outcome": "Outcome recorded"}  # fmt: skip


def purpose_of(caller: Caller) -> str:
    assert caller.principal is not None
    agency = agency_of(caller.principal)
    return f"breach response ({agency.replace('_', ' ')})" if agency else "monitoring centre breach review"


def _load(request: Request, uow: UnitOfWork, caller: Caller, breach_id: str) -> dict[str, Any]:
    """The breach if the caller may see it; else 404 exactly as a missing one (refusal audited)."""
    assert caller.principal is not None
    b = queries.breach(uow.session, breach_id[:40])
    if b is None or not visible(uow.session, caller.principal, [b]):
        deny_as_missing(request, caller, "breach outside the caller's reach", MISSING, [breach_id[:40]])
    assert b is not None
    return b


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    if s < 120:
        return f"{s} seconds"
    if s < 7200:
        return f"{s // 60} minutes"
    if s < 172_800:
        return f"{s // 3600} hours {s % 3600 // 60} minutes"
    return f"{s // 86400} days {s % 86400 // 3600} hours"


def clocks_json(b: dict[str, Any]) -> list[dict[str, Any]]:
    stamps = {"violation_start": b["violation_start"], "detected": b["detected_at"], "incident": b["incident_opened_at"],
              "confirmed": b["confirmed_at"], "pack": b["pack_at"], "delivered": b["delivered_at"],
              "acknowledged": b["acknowledged_at"], "decision": b["decided_at"], "outcome": b["outcome_at"]}  # fmt: skip
    out = []
    for row in rules.clocks(stamps, rules.violation_period(b["violation_start"])):
        out.append({
            "stage": row["stage"], "label": STAGE_LABELS[row["stage"]], "at": iso(row["at"]) if row["at"] else None,
            "when": london_time(row["at"], empty="Not yet", seconds=True), "since_violation_s": row["since_violation_s"],
            "since_violation": _duration(row["since_violation_s"]),
            "contract_due": iso(row["contract_due"]) if row.get("contract_due") else None,
            "contract_due_text": london_time(row.get("contract_due"), empty=""), "contract_met": row.get("contract_met"),
            "target_due": iso(row["target_due"]) if row.get("target_due") else None,
            "target_met": row.get("target_met"),
        })  # fmt: skip
    return out


def breach_json(b: dict[str, Any]) -> dict[str, Any]:
    return {
        "breach_id": b["breach_id"], "incident_id": b["incident_id"], "person_id": b["person_id"],
        "order_ref": b["order_ref"], "agency": b["agency"], "team": b["team"], "officer": b["officer"],
        "urgency": b["urgency"], "template": b["template"], "route_rule": b["route_rule"],
        "route_version": b["route_version"], "kinds": b["kinds"], "state": b["state"], "decision": b["decision"],
        "confirmed_at": iso(b["confirmed_at"]), "confirmed": london_time(b["confirmed_at"]),
        "pack_version": b["pack_version"], "pack_sha256": b["pack_sha256"],
        "delivered_at": iso(b["delivered_at"]) if b["delivered_at"] else None,
        "outcome_at": iso(b["outcome_at"]) if b["outcome_at"] else None, "reminders": b["reminders"],
    }  # fmt: skip


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _list(uow: UnitOfWork, caller: Caller) -> list[dict[str, Any]]:
    assert caller.principal is not None
    p = caller.principal
    agency = agency_of(p)
    if p.has("cases:all"):
        rows = queries.breaches_where(uow.session)
    elif agency == "court":
        rows = queries.breaches_where(uow.session, agency="police")
    elif agency:
        rows = queries.breaches_where(uow.session, agency=agency)
    else:
        rows = []
    return visible(uow.session, p, rows)


# -- API ----------------------------------------------------------------------------------------------------


@router.get("/api/breaches", tags=["breaches"])
def api_list(uow: UnitOfWork = Depends(get_uow, scope="function"),
             caller: Caller = Depends(require("breaches:read"))) -> dict[str, Any]:  # fmt: skip
    rows = _list(uow, caller)
    audit.record(uow.session, actor=caller.actor, action="breaches:list:read", records=[r["order_ref"] for r in rows][:200],
                 purpose=purpose_of(caller))  # fmt: skip
    return {"breaches": [breach_json(r) for r in rows]}


def detail(uow: UnitOfWork, b: dict[str, Any]) -> dict[str, Any]:
    return {**breach_json(b), "clocks": clocks_json(b),
            "responses": _plain(service.responses(uow.session, b["breach_id"])),
            "packs": _plain(queries.pack_versions(uow.session, b["breach_id"])),
            "deliveries": _plain(notify_queries.deliveries(uow.session, b["breach_id"])),
            "inbox": _plain(notify_queries.inbox_messages_for(uow.session, b["breach_id"]))}  # fmt: skip


@router.get("/api/breaches/{breach_id}", tags=["breaches"])
def api_breach(breach_id: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
               caller: Caller = Depends(require("breaches:read"))) -> dict[str, Any]:  # fmt: skip
    b = _load(request, uow, caller, breach_id)
    audit.record(uow.session, actor=caller.actor, action=f"breaches:{b['breach_id']}:read",
                 records=[b["order_ref"], b["person_id"]], purpose=purpose_of(caller))  # fmt: skip
    return {**detail(uow, b), "pack": queries.pack_document(uow.session, b["breach_id"])}


def _download(
    request: Request, uow: UnitOfWork, caller: Caller, breach_id: str, version: int | None, fmt: str
) -> Response:
    b = _load(request, uow, caller, breach_id)
    if fmt not in queries.FORMATS:
        raise Invalid("A pack is downloaded as pdf, html or json", field="format")
    found = queries.pack_file(uow.session, b["breach_id"], version, fmt)
    if found is None:
        raise NotFound("There is no such version of this breach pack")
    data, mime, sha = found
    audit.record(uow.session, actor=caller.actor, action=f"breaches:{b['breach_id']}:pack:download",
                 records=[b["order_ref"], b["person_id"]], purpose=purpose_of(caller),
                 details={"format": fmt, "version": version, "sha256": sha})  # fmt: skip
    name = f"{b['breach_id']}-v{version or b['pack_version']}.{fmt}"
    disposition = "inline" if fmt == "html" else "attachment"
    headers = {"Content-Disposition": f'{disposition}; filename="{name}"', "X-Content-SHA256": sha}
    if fmt == "html":  # the pack's own HTML: no scripts, nothing loaded from elsewhere
        headers["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
    return Response(data, media_type=mime, headers=headers)


PACK_CONTENT = {
    200: {
        "description": "The pack in the format asked for",
        "content": {"application/pdf": {}, "text/html": {}, "application/json": {}},
    }
}


@router.get("/api/breaches/{breach_id}/pack", tags=["breaches"], responses=PACK_CONTENT)  # type: ignore[arg-type]
def api_pack(breach_id: str, request: Request, format: str = Query("pdf", max_length=5),  # noqa: A002
             version: int | None = Query(None, ge=1, le=10_000), uow: UnitOfWork = Depends(get_uow, scope="function"),
             caller: Caller = Depends(require("breaches:read"))) -> Response:  # fmt: skip
    return _download(request, uow, caller, breach_id, version, format)


class ResponseBody(BaseModel):
    step: str = Field(max_length=30)
    value: str = Field(default="", max_length=40)
    note: str = Field(default="", max_length=2000)
    submission_key: str = Field(default="", max_length=80)


def _respond(uow: UnitOfWork, caller: Caller, b: dict[str, Any], body: ResponseBody) -> dict[str, Any]:
    assert caller.principal is not None
    return service.record_response(uow, b["breach_id"], agency_of(caller.principal), caller.actor, body.step,
                                   body.value, body.note, body.submission_key)  # fmt: skip


REFUSAL_STATUS = {"wrong_agency": 403, "duplicate": 409, "out_of_order": 409, "invalid": 422}
REFUSAL_ERROR = {
    "wrong_agency": Forbidden,
    "duplicate": Conflict,
    "out_of_order": Conflict,
    "invalid": Invalid,
}


def _refuse(request: Request, caller: Caller, b: dict[str, Any], exc: ResponseRefused) -> NoReturn:
    """Audit the refusal in its own transaction (the request's is rolled back by the error) and answer it."""
    with request.app.state.db.uow() as own:
        audit.record(own.session, actor=caller.actor, action=f"breaches:{b['breach_id']}:response:refused",
                     records=[b["order_ref"]], outcome="refused", details={"code": exc.code, "reason": str(exc)[:200]})  # fmt: skip
    raise REFUSAL_ERROR[exc.code](str(exc), code=exc.code) from exc


@router.post("/api/breaches/{breach_id}/responses", tags=["breaches"], dependencies=WRITE)
def api_respond(breach_id: str, body: ResponseBody, request: Request,
                uow: UnitOfWork = Depends(get_uow, scope="function"),
                caller: Caller = Depends(require("breaches:respond"))) -> Any:  # fmt: skip
    b = _load(request, uow, caller, breach_id)
    try:
        result = _respond(uow, caller, b, body)
    except ResponseRefused as exc:
        _refuse(request, caller, b, exc)
    return result


@router.post("/api/breaches/{breach_id}/packs", tags=["breaches"], dependencies=WRITE)
def api_new_version(breach_id: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
                    caller: Caller = Depends(require("alerts:handle"))) -> Any:  # fmt: skip
    """A new pack version from the incident's latest evidence (the monitoring centre); 409 if nothing changed."""
    b = _load(request, uow, caller, breach_id)
    made = service.refresh_pack(uow, b["breach_id"], caller.actor)
    if made is None:
        raise Conflict("The evidence has not changed since the latest version of the pack")
    return {"breach_id": b["breach_id"], "version": made.version, "sha256_pdf": made.sha256_pdf}


@router.get("/api/inbox", tags=["breaches"])
def api_inbox(uow: UnitOfWork = Depends(get_uow, scope="function"),
              caller: Caller = Depends(require("breaches:read"))) -> dict[str, Any]:  # fmt: skip
    assert caller.principal is not None
    rows = notify_queries.inbox(uow.session, inboxes_of(caller.principal))
    audit.record(uow.session, actor=caller.actor, action="notify:inbox:read", records=[r["order_ref"] for r in rows][:200],
                 purpose=purpose_of(caller))  # fmt: skip
    return {"messages": _plain(rows)}


@router.post("/api/inbox/{message_id}/acknowledge", tags=["breaches"], dependencies=WRITE)
def api_acknowledge(message_id: str, uow: UnitOfWork = Depends(get_uow, scope="function"),
                    caller: Caller = Depends(require("breaches:read"))) -> Any:  # fmt: skip
    assert caller.principal is not None
    try:
        first = acknowledge(uow, message_id[:80], inboxes_of(caller.principal), caller.actor)
    except KeyError:
        raise NotFound("There is no such message in your inbox") from None
    return {"message_id": message_id, "acknowledged": True, "first": first}


# -- pages --------------------------------------------------------------------------------------------------


@router.get("/breaches", include_in_schema=False)
def inbox_page(request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
               caller: Caller = Depends(require("breaches:read"))) -> Response:  # fmt: skip
    assert caller.principal is not None
    rows = _list(uow, caller)
    messages = notify_queries.inbox(uow.session, inboxes_of(caller.principal), limit=50)
    audit.record(uow.session, actor=caller.actor, action="breaches:inbox:page:read",
                 records=[r["order_ref"] for r in rows][:200], purpose=purpose_of(caller))  # fmt: skip
    return render(request, "breaches/inbox.html", {
        "breaches": [breach_json(r) for r in rows], "agency": agency_of(caller.principal),
        "messages": _once(messages)})  # fmt: skip


def _once(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The unacknowledged messages, each once: the copy in the team's inbox and the one in the officer's own are
    the same message to a reader of both."""
    seen: dict[tuple[str, int, str], dict[str, Any]] = {}
    for m in messages:
        if not m["acknowledged_at"]:
            seen.setdefault((m["subject_id"], m["subject_version"], m["title"]),
                            {**m, "created": london_time(m["created_at"])})  # fmt: skip
    return list(seen.values())


@router.get("/breaches/{breach_id}", include_in_schema=False)
def breach_page(breach_id: str, request: Request, uow: UnitOfWork = Depends(get_uow, scope="function"),
                caller: Caller = Depends(require("breaches:read"))) -> Response:  # fmt: skip
    assert caller.principal is not None
    b = _load(request, uow, caller, breach_id)
    audit.record(uow.session, actor=caller.actor, action=f"breaches:{b['breach_id']}:page:read",
                 records=[b["order_ref"], b["person_id"]], purpose=purpose_of(caller))  # fmt: skip
    return _breach_page(request, uow, caller, b)


def _breach_page(request: Request, uow: UnitOfWork, caller: Caller, b: dict[str, Any], error: str = "",
                 status: int = 200) -> Response:  # fmt: skip
    assert caller.principal is not None
    doc = queries.pack_document(uow.session, b["breach_id"]) or {}
    positions = (doc.get("annex") or {}).get("positions") or []
    trail = [{**p, "device_time": as_datetime(p.get("at"))} for p in positions]
    s = doc.get("summary") or {}
    svg = svgmap.draw(trail, (doc.get("map") or {}).get("zones") or [], (doc.get("map") or {}).get("addresses") or [],
                      (as_datetime(s.get("from")), as_datetime(s.get("to")) or as_datetime(doc.get("generated_at"))),
                      title=f"Map of the positions against the order's zones and addresses for breach {b['breach_id']}")  # fmt: skip
    agency = agency_of(caller.principal)
    d = detail(uow, b)
    done = {r["step"] for r in d["responses"] if r["agency"] == agency}
    steps = [st for st in STEPS.get(agency, ()) if st not in done]
    can_respond = (
        caller.principal.has("breaches:respond")
        and agency in STEPS
        and (agency == b["agency"] or (agency == "court" and b["template"] == "bail"))
    )
    return render(request, "breaches/breach.html", {
        "b": d, "doc": doc, "svg": svg, "labels": LABELS, "next_step": steps[0] if steps else "",
        "decision_step": DECISION_STEP.get(agency, ""), "decisions": DECISIONS.get(agency, ()),
        "can_respond": can_respond, "error": error, "submission_key": uuid.uuid4().hex,
        "responses": [{**r, "when": london_time(r["at"])} for r in d["responses"]],
        "packs": [{**p, "when": london_time(p["created_at"])} for p in d["packs"]],
        "deliveries": [{**x, "when": london_time(x["delivered_at"], empty="Not yet")} for x in d["deliveries"]],
    }, status=status)  # fmt: skip


@router.post("/breaches/{breach_id}/responses", include_in_schema=False, dependencies=WRITE)
def respond_form(breach_id: str, request: Request, form: Any = Depends(read_form),
                 uow: UnitOfWork = Depends(get_uow, scope="function"),
                 caller: Caller = Depends(require("breaches:respond"))) -> Response:  # fmt: skip
    b = _load(request, uow, caller, breach_id)
    body = ResponseBody(step=str(form.get("step") or "")[:30], value=str(form.get("value") or "")[:40],
                        note=str(form.get("note") or "")[:2000], submission_key=str(form.get("submission_key") or "")[:80])  # fmt: skip
    try:
        _respond(uow, caller, b, body)
    except ResponseRefused as exc:  # audited by the service, in this request's commit
        return _breach_page(request, uow, caller, b, error=str(exc), status=REFUSAL_STATUS[exc.code])
    return RedirectResponse(f"/breaches/{b['breach_id']}", status_code=303)


@router.get("/breaches/{breach_id}/pack/{version}.{fmt}", include_in_schema=False)
def pack_download(breach_id: str, version: int, fmt: str, request: Request,
                  uow: UnitOfWork = Depends(get_uow, scope="function"),
                  caller: Caller = Depends(require("breaches:read"))) -> Response:  # fmt: skip
    return _download(request, uow, caller, breach_id, version, fmt)


@router.post("/inbox/{message_id}/acknowledge", include_in_schema=False, dependencies=WRITE)
def acknowledge_form(message_id: str, uow: UnitOfWork = Depends(get_uow, scope="function"),
                     caller: Caller = Depends(require("breaches:read"))) -> Response:  # fmt: skip
    assert caller.principal is not None
    try:
        acknowledge(uow, message_id[:80], inboxes_of(caller.principal), caller.actor)
    except KeyError:
        raise NotFound("There is no such message in your inbox") from None
    return RedirectResponse("/breaches", status_code=303)
