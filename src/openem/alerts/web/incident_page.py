"""An incident at a glance: the person (name, photo placeholder, risk, phone), the order and its conditions
with links, the last known position, the evidence on a map with the zone or curfew address drawn, the episodes
in plain words and London time, why it did or did not reach a person (every rule decision with its version),
and the operator's forms (acknowledge, assign, note, contact, resolve, escalate) with optimistic locking.
Reading it reads personal and location data: audited with its purpose."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from openem.alerts import queries
from openem.alerts.rulebook import rule_versions
from openem.alerts.service import CONTACT_OUTCOMES, RESOLUTION_CODES, IncidentConflict, act_on_incident
from openem.alerts.triage import parse_iso, person_flags_from_order
from openem.alerts.web.incidents import STATE_LABELS, incident_json, visible
from openem.alerts.web.reads import plain_details, zones_named_by_kind
from openem.auth import audit
from openem.core.time import utcnow
from openem.monitoring.catalogue import describe
from openem.orders.queries import map_context_of, order_documents
from openem.store.db import UnitOfWork
from openem.telemetry.queries import evidence_messages, trail_of_person
from openem.web.deps import Caller, csrf_protect, deny_as_missing, get_uow, read_form, require
from openem.web.rendering import london_time, render

router = APIRouter()
QUIET = ("suppressed", "inhibited", "held", "auto_closed", "suspended")
ACTION_WORDS = {"suppress": "Suppressed", "suspend": "Waited to see if it resolved", "inhibit": "Explained by a device fault",
                "hold": "Held for more evidence", "escalate": "Escalated at once",
                "suspend_until_resolved": "Closed: it resolved within policy",
                "confirm": "Sent to the responsible official as a breach"}  # fmt: skip
FLAG_WORDS = {"special": "Special", "mappa": "MAPPA", "domestic_abuse": "Domestic abuse",
              "victim_proximity": "Victim proximity"}  # fmt: skip
CODE_WORDS = {"reasonable_excuse": "Reasonable excuse", "authorised_absence": "Authorised absence",
              "equipment_fault": "Equipment fault", "no_breach": "No breach", "duplicate": "Duplicate",
              "breach_confirmed_elsewhere": "Breach already confirmed elsewhere", "no_answer": "No answer",
              "wearer_returning": "Wearer says they are returning", "other": "Other"}  # fmt: skip
ZONE_WORDS = {
    "exclusion_zones": "Exclusion zone",
    "inclusion_zones": "Inclusion zone",
    "restriction_zones": "Restriction zone",
}  # restriction: judged as exclusion, raises exclusion_entry
DONE_WORDS = {"acknowledge": "Incident acknowledged", "assign": "Incident assigned", "note": "Note added",
              "contact": "Contact with the wearer recorded", "resolve": "Incident resolved",
              "escalate": "Incident escalated to a breach"}  # fmt: skip


def _person(doc: dict[str, Any]) -> dict[str, Any]:
    w = doc.get("device_wearer") or {}
    name = f"{w.get('first_name') or ''} {w.get('last_name') or ''}".strip()
    risk = doc.get("offence_risk") or {}
    flags = [FLAG_WORDS[f] for f in sorted(person_flags_from_order(doc)) if f in FLAG_WORDS]
    return {"name": name or "Unknown", "initials": "".join(p[0] for p in name.split()[:2]).upper() or "?",
            "phone": (doc.get("contact") or {}).get("phone") or "", "dob": w.get("date_of_birth") or "",
            "flags": flags, "risk_level": str(risk.get("risk_level") or "").replace("_", " ").capitalize()}  # fmt: skip


def _conditions(doc: dict[str, Any]) -> list[str]:
    c: dict[str, Any] = doc["conditions"] if isinstance(doc.get("conditions"), dict) else {}
    out = []
    if isinstance(c.get("curfew"), dict):
        slots = [s for s in c["curfew"].get("timetable") or [] if isinstance(s, dict)]
        times = sorted({f"{s.get('start')} to {s.get('end')}" for s in slots if s.get("start")})
        out.append("Curfew" + (f": {', '.join(times[:3])}" if times else ""))
    for kind, word in ZONE_WORDS.items():
        for z in c.get(kind) or []:
            if isinstance(z, dict):
                out.append(f"{word}: {z.get('name') or 'unnamed'}")
    for key in ("alcohol", "proximity", "victim_proximity", "attendance"):
        if c.get(key):
            out.append(key.replace("_", " ").capitalize())
    return out


def _zone_of(doc: dict[str, Any], condition_id: str) -> str:
    """The order's zone an episode is about, in words ("Restriction zone: ..."), found as the engine names it:
    by its id, else `kind[i]` (a restriction zone sharing an exclusion zone's id is `restriction_zones[i]`)."""
    c = doc.get("conditions") if isinstance(doc.get("conditions"), dict) else {}
    for kind, word in ZONE_WORDS.items():
        for i, z in enumerate((c or {}).get(kind) or []):
            if isinstance(z, dict) and condition_id in (str(z.get("id") or ""), f"{kind}[{i}]"):
                return f"{word}: {z.get('name') or 'unnamed'}"
    return ""


def _episodes(inc: dict[str, Any], doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for e in sorted(inc["episodes"], key=lambda e: str(e.get("start"))):
        kind = str(e.get("kind") or "")
        facts = plain_details(dict(e.get("measure") or {})) + plain_details(dict(e.get("details") or {}))
        zone = (
            _zone_of(doc, str(e.get("condition_id") or ""))
            if kind.startswith(("exclusion", "inclusion"))
            else ""
        )
        facts = [("Zone", zone), *facts] if zone else facts
        out.append({"label": describe(kind).label, "start": london_time(e.get("start")),
                    "end": london_time(e.get("end")), "confidence": str(e.get("confidence") or "confirmed"),
                    "facts": facts[:8]})  # fmt: skip
    return out


def _decisions(session: Any, inc: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(automatic decisions in words with rule and version, operators' actions)."""
    described = {(r["rule_id"], r["version"]): r["description"] for r in rule_versions(session)}
    auto, human = [], []
    for d in inc["decisions"]:
        if d.get("by"):
            human.append({**d, "when": london_time(d.get("at")), "words": DONE_WORDS.get(d["action"], d["action"]),
                          "reason_words": CODE_WORDS.get(d.get("reason") or "", d.get("reason") or "")})  # fmt: skip
            continue
        rule = str(d.get("rule") or "")
        about = described.get((rule, d.get("version")), "")
        if rule.startswith("silence:"):
            about = "a silence an operator set (see Silences)"
        if rule == "invariant:protected":
            about = "proximity, tamper and specials always reach a person"
        auto.append({**d, "when": london_time(d.get("at")), "about": about,
                     "words": ACTION_WORDS.get(str(d.get("action")), str(d.get("action"))),
                     "dry_run": d.get("mode") == "monitor"})  # fmt: skip
    return auto, human


def _evidence(session: Any, inc: dict[str, Any]) -> list[dict[str, Any]]:
    keys = []
    for e in inc["episodes"]:
        for item in (e.get("evidence") or [])[:200]:
            if isinstance(item, list | tuple) and len(item) == 2:
                try:
                    keys.append((str(item[0]), int(item[1])))
                except (TypeError, ValueError):
                    continue
    points = []
    for m in evidence_messages(session, keys[:500]):
        p = m["payload"]
        if isinstance(p.get("lat"), int | float) and isinstance(p.get("lon"), int | float):
            points.append({"lat": p["lat"], "lon": p["lon"], "accuracy_m": p.get("accuracy_m"),
                           "time": m["device_time"].isoformat()})  # fmt: skip
    return sorted(points, key=lambda p: p["time"])


def _last_position(session: Any, inc: dict[str, Any]) -> dict[str, Any] | None:
    ends = [parse_iso(e.get("end") or e.get("start")) for e in inc["episodes"]]
    latest = max((t for t in ends if t is not None), default=None) or utcnow()
    until = max(latest, utcnow()) + timedelta(minutes=1)
    trail = trail_of_person(session, inc["person_id"], until - timedelta(hours=12), until, limit=5000)
    if not trail:
        return None
    p = trail[-1]
    return {"lat": p["lat"], "lon": p["lon"], "when": london_time(p["time"]), "accuracy_m": p["accuracy_m"]}


def load_incident(request: Request, uow: UnitOfWork, caller: Caller, incident_id: str) -> dict[str, Any]:
    inc = queries.incident(uow.session, incident_id[:40])
    if inc is None:
        deny_as_missing(request, caller, "no such incident", "There is no such incident")
    assert inc is not None
    if not visible(uow, caller, [inc]):
        deny_as_missing(request, caller, "incident outside your cases", "There is no such incident",
                        records=[incident_id[:40], inc["order_ref"]])  # fmt: skip
    return inc


def page_context(uow: UnitOfWork, caller: Caller, inc: dict[str, Any]) -> dict[str, Any]:
    docs = order_documents(uow.session, [inc["order_ref"]]) if inc["order_ref"] else {}
    doc = docs.get(inc["order_ref"], ({}, None))[0]
    assert caller.principal is not None
    may_locate = caller.principal.has("location:read")
    points = _evidence(uow.session, inc) if may_locate else []
    last = _last_position(uow.session, inc) if may_locate and inc["person_id"] else None
    context = (
        zones_named_by_kind(map_context_of(doc)) if doc else {"addresses": [], "zones": [], "places": []}
    )
    auto, human = _decisions(uow.session, inc)
    audit.record(uow.session, actor=caller.actor, action=f"alerts:incident:{inc['incident_id']}:read",
                 records=[inc["order_ref"], inc["person_id"]], purpose="incident review",
                 details={"evidence_points": len(points), "last_position": last is not None})  # fmt: skip
    return {
        "i": incident_json(inc), "inc": inc, "person": _person(doc) if doc else None,
        "conditions": _conditions(doc) if doc else [], "episodes": _episodes(inc, doc), "auto": auto,
        "human": human, "quiet": inc["state"] in QUIET or (not inc["needs_person"] and inc["state"] != "resolved"),
        "state_label": STATE_LABELS.get(inc["state"], inc["state"]), "last": last, "notes": inc["notes"],
        "points_json": json.dumps(points), "context_json": json.dumps(context), "has_map": bool(points or last
        or context["addresses"] or context["zones"]), "last_json": json.dumps(last),
        "resolution_codes": [(c, CODE_WORDS[c]) for c in RESOLUTION_CODES],
        "contact_outcomes": [(c, CODE_WORDS[c]) for c in CONTACT_OUTCOMES],
        "may_handle": caller.principal.has("alerts:handle"),
        "acknowledged": any(d.get("action") == "acknowledge" for d in inc["decisions"]), "may_locate": may_locate,
        "closed": london_time(inc["closed_at"]), "resolution": CODE_WORDS.get(inc["resolution"], inc["resolution"]),
    }  # fmt: skip


@router.get("/api/incidents/{incident_id}", tags=["alerts"])
def get_incident(
    incident_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> Any:
    inc = queries.incident(uow.session, incident_id[:40])
    if inc is None or not visible(uow, caller, [inc]):
        return JSONResponse({"detail": "not found"}, status_code=404)
    audit.record(uow.session, actor=caller.actor, action=f"alerts:incident:{incident_id}:read",
                 records=[inc["order_ref"], inc["person_id"]], details={"purpose": "incident review"})  # fmt: skip
    return {**incident_json(inc), "notes": inc["notes"], "episodes": inc["episodes"],
            "closed_at": inc["closed_at"].isoformat() if inc["closed_at"] else None, "resolution": inc["resolution"]}  # fmt: skip


@router.get("/incidents/{incident_id}", include_in_schema=False)
def incident_page(
    incident_id: str,
    request: Request,
    done: str = "",
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> Response:
    inc = load_incident(request, uow, caller, incident_id)
    ctx = page_context(uow, caller, inc)
    return render(request, "alerts/incident.html", {**ctx, "done": DONE_WORDS.get(done, ""), "errors": []})


@router.post("/incidents/{incident_id}", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def incident_form(
    incident_id: str,
    request: Request,
    form: Any = Depends(read_form),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:handle")),
) -> Response:
    inc = load_incident(request, uow, caller, incident_id)
    action = str(form.get("action") or "")[:20]
    try:
        version = int(str(form.get("version") or "-1"))
    except ValueError:
        version = -1
    field = {"resolve": "reason-resolve", "contact": "reason-contact", "note": "note", "assign": "assignee",
             "escalate": "reason-escalate"}.get(action, "actions")  # fmt: skip
    reason = str(form.get("reason_" + action) or form.get("reason") or "")[:200]
    note = str(form.get("note_" + action) or form.get("note") or "")[:2000]
    try:
        act_on_incident(uow, inc["incident_id"], version, caller.actor, action, reason,
                        str(form.get("assignee") or "")[:80], note)  # fmt: skip
    except IncidentConflict as exc:
        msg = ("Another operator changed this incident while you were reading it: the page now shows the latest. "
               "Check it and act again." if "changed" in str(exc) else str(exc).capitalize())  # fmt: skip
        return _again(request, uow, caller, incident_id, [("actions", msg)], 409)
    except ValueError as exc:
        return _again(request, uow, caller, incident_id, [(field, _words(action, str(exc)))], 422)
    return RedirectResponse(f"/incidents/{inc['incident_id']}?done={action}", status_code=303)


def _words(action: str, message: str) -> str:
    return {"resolve": "Choose why the incident is resolved", "contact": "Choose what the contact established",
            "note": "Write the note", "assign": "Enter who the incident is assigned to"}.get(action, message.capitalize())  # fmt: skip


def _again(request: Request, uow: UnitOfWork, caller: Caller, incident_id: str, errors: list[Any],
           status: int) -> Response:  # fmt: skip
    uow.session.rollback()
    inc = load_incident(request, uow, caller, incident_id)
    return render(request, "alerts/incident.html", {**page_context(uow, caller, inc), "done": "", "errors": errors},
                  status=status)  # fmt: skip
