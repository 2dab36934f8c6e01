"""A field officer's day: the visits planned for them today in route order, and a visit's page with the form
to record an attempt and its outcome. An officer sees only visits planned for them (least privilege); every
read of a visit (an address's position, a person) is audited with its purpose."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from openem.auth import audit
from openem.core.errors import Conflict, Invalid, NotFound
from openem.core.time import local_date, local_to_utc, utcnow
from openem.field import contract, planning, queries, service
from openem.field.rules import OUTCOMES, SUCCESS
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, deny_as_missing, get_uow, read_form, require, signed_in
from openem.web.rendering import render

router = APIRouter()
HANDLE = require("visits:handle")
LABELS = {
    "FITTED": "Fitted",
    "RECOVERED": "Equipment recovered",
    "CHECKED": "Checked",
    "NOT_AT_HOME": "Not at home",
    "NO_ACCESS": "No access",
    "REFUSED": "Refused",
    "WRONG_ADDRESS": "Wrong address",
    "UNSAFE_ADDRESS": "Unsafe address",
    "EQUIPMENT_FAULT": "Equipment fault",
    "ORDER_ERROR": "Error in the order",
}
PLACES = {
    "HOME": "Home",
    "PRISON": "Prison, before release",
    "COURT": "Court",
    "PROBATION_OFFICE": "Probation office",
}
KIND_LABELS = {"FIT": "Fit tag", "REFIT": "Refit", "RECOVER": "Recover equipment", "CHECK": "Check"}


def _outcomes(kind: str) -> list[tuple[str, str]]:
    return [(o, LABELS[o]) for o in OUTCOMES if o not in SUCCESS.values() or SUCCESS.get(kind) == o]


def _own_visit(uow: UnitOfWork, caller: Caller, visit_id: str) -> dict[str, Any]:
    v = queries.visit(uow.session, visit_id[:60])
    # another officer's visit is answered as missing; a two-officer visit is both officers'
    if v is None or caller.actor not in (v["officer"], v["partner"]):
        raise NotFound("There is no such visit in your plan")
    return v


@router.get("/field/visits", include_in_schema=False)
def todays_visits(
    request: Request,
    day: str = Query("", max_length=10),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(HANDLE),
) -> Response:
    try:
        the_day = date.fromisoformat(day) if day else utcnow().date()
    except ValueError:
        the_day = utcnow().date()
    visits = queries.todays_visits(uow.session, caller.actor, the_day.isoformat())
    audit.record(uow.session, actor=caller.actor, action="field:visits:list:read",
                 records=[v["visit_id"] for v in visits], purpose="plan the day's field visits")  # fmt: skip
    context = _map_context(visits)
    replan = planning.last_replan(uow.session, caller.actor, the_day.isoformat())
    details = _unplanned_reasons(replan)
    return render(request, "field/today.html",
                  {"visits": visits, "day": the_day, "kinds": KIND_LABELS, "labels": LABELS, "places": PLACES,
                   "map_context": context, "map_json": json.dumps(context), "replan": replan,
                   "unplanned": details, "partners": _partners(uow, caller.actor, visits)})  # fmt: skip


def _partners(uow: UnitOfWork, me: str, visits: list[dict[str, Any]]) -> dict[str, str]:
    """visit -> the name of the other officer of a two-officer visit."""
    other = {
        v["visit_id"]: v["partner"] if v["officer"] == me else v["officer"] for v in visits if v["partner"]
    }
    names = queries.officer_names(uow.session, sorted(set(other.values())))
    return {vid: names.get(o, o) for vid, o in other.items()}


def _map_context(visits: list[dict[str, Any]]) -> dict[str, Any]:
    """The stops with a position, labelled in visiting order (the shared map draws them as addresses)."""
    stops = [
        v for v in visits if v["lat"] is not None and v["lon"] is not None and not v["needs_address_check"]
    ]
    addresses = [{"label": f"{i}. {KIND_LABELS.get(v['kind'], v['kind'])} {v['order_ref']}", "lat": v["lat"],
                  "lon": v["lon"], "curfew": False} for i, v in enumerate(stops, 1)]  # fmt: skip
    return {"addresses": addresses, "zones": [], "places": []}


def _unplanned_reasons(replan: dict[str, Any] | None) -> list[tuple[str, str]]:
    return [(str(p[0]), str(p[1])) for p in (replan or {}).get("unplanned") or [] if len(p) == 2]


@router.post("/field/visits/replan", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def replan(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(HANDLE),
    form: Any = Depends(read_form),
) -> Response:
    day = str(form.get("day", ""))[:10]
    try:
        date.fromisoformat(day)
    except ValueError:
        day = local_date(utcnow()).isoformat()
    planning.replan_day(uow.session, actor=caller.actor, officer=caller.actor, day=day, now=utcnow(),
                        reason="you asked for it", publish=uow.add_event)  # fmt: skip
    return RedirectResponse(f"/field/visits?day={day}", status_code=303)


def _visit_page(request: Request, v: dict[str, Any], errors: list[tuple[str, str]], form: dict[str, str],
                status: int = 200, **extra: Any) -> Response:  # fmt: skip
    rules = contract.load_contract()["rules"]
    home = {"addresses": [], "zones": [], "places": []} if v["lat"] is None else {
        "addresses": [{"label": f"{PLACES.get(v['location'], 'Home')} {v['postcode']}".strip(), "lat": v["lat"],
                       "lon": v["lon"], "curfew": v["location"] == "HOME"}], "zones": [], "places": []}  # fmt: skip
    return render(request, "field/visit.html",
                  {"v": v, "errors": errors, "form": form, "outcomes": _outcomes(v["kind"]), "kinds": KIND_LABELS,
                   "labels": LABELS, "places": PLACES, "rule": rules.get(v["rule"], rules["ADULT"]),
                   "map_json": json.dumps(home), **extra}, status)  # fmt: skip


@router.get("/field/visits/{visit_id}", include_in_schema=False)
def visit_page(
    visit_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(HANDLE),
) -> Response:
    v = _own_visit(uow, caller, visit_id)
    audit.record(uow.session, actor=caller.actor, action=f"field:{v['visit_id']}:read",
                 records=[v["visit_id"], v["order_ref"], v["person_id"]], purpose="carry out a field visit")  # fmt: skip
    booked = request.query_params.get("booked") == "1"
    return _visit_page(
        request,
        v,
        [],
        {},
        booked=booked,
        booked_warning=request.query_params.get("late", "")[:60],
        photos=queries.photos_of_visit(uow.session, v["visit_id"]),
    )


@router.post(
    "/field/visits/{visit_id}/address", include_in_schema=False, dependencies=[Depends(csrf_protect)]
)
def correct_address(
    visit_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(HANDLE),
    form: Any = Depends(read_form),
) -> Response:
    v = _own_visit(uow, caller, visit_id)
    values = {k: str(form.get(k, ""))[:30].strip() for k in ("postcode", "lat", "lon")}
    lat = lon = None
    error = ""
    if values["lat"] or values["lon"]:
        try:
            lat, lon = float(values["lat"]), float(values["lon"])
        except ValueError:
            error = "Enter the pin as two numbers, for example 51.4791 and -3.1781"
    if not error:
        try:
            service.correct_address(uow.session, actor=caller.actor, visit_id=v["visit_id"], postcode=values["postcode"],
                                    lat=lat, lon=lon, publish=uow.add_event)  # fmt: skip
            return RedirectResponse(f"/field/visits/{v['visit_id']}", status_code=303)
        except (Invalid, Conflict) as exc:
            error = str(exc)
    return _visit_page(request, v, [("postcode", error)], values, 422)


@router.post(
    "/field/visits/{visit_id}/appointment", include_in_schema=False, dependencies=[Depends(csrf_protect)]
)
def book(
    visit_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(HANDLE),
    form: Any = Depends(read_form),
) -> Response:
    v = _own_visit(uow, caller, visit_id)
    values = {k: str(form.get(k, ""))[:20].strip() for k in ("appointment_day", "appointment_time")}
    at: datetime | None = None
    try:
        at = local_to_utc(
            date.fromisoformat(values["appointment_day"]), time.fromisoformat(values["appointment_time"])
        )
    except ValueError:
        error = "Enter a real day and a time, for example 2026-12-03 and 14:30"
    if at is not None:
        try:
            warning = planning.book_appointment(uow.session, actor=caller.actor, visit_id=v["visit_id"], at=at,
                                                now=utcnow())  # fmt: skip
            late = "&late=This+is+after+the+contract+deadline" if warning else ""
            return RedirectResponse(f"/field/visits/{v['visit_id']}?booked=1{late}", status_code=303)
        except (Invalid, Conflict) as exc:
            error = str(exc)
    return _visit_page(request, v, [("appointment", error)], values, 422)


@router.post("/field/visits/{visit_id}", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def record_outcome(
    visit_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(HANDLE),
    form: Any = Depends(read_form),
) -> Response:
    v = _own_visit(uow, caller, visit_id)
    values = {k: str(form.get(k, ""))[:600].strip() for k in ("outcome", "device_id", "note")}
    errors: list[tuple[str, str]] = []
    now = utcnow()
    at, offline = _recorded_at(str(form.get("recorded_at", ""))[:40], now)
    if at is None:
        errors.append(
            ("outcome", "The time this outcome was recorded on the phone must be within the last day")
        )
    if values["outcome"] not in dict(_outcomes(v["kind"])):
        errors.append(("outcome", "Select what happened at the visit"))
    if values["outcome"] == "FITTED" and not values["device_id"]:
        errors.append(("device_id", "Enter the serial of the device fitted"))
    if len(values["note"]) > 500:
        errors.append(("note", "The note must be 500 characters or fewer"))
    photo, photo_error = _photo_of(form)
    if photo_error:
        errors.append(("photo", photo_error))
    if not errors:
        try:
            assert at is not None
            attempt = service.record_attempt(uow.session, actor=caller.actor, visit_id=v["visit_id"],
                                             outcome=values["outcome"], at=at, device_id=values["device_id"],
                                             note=values["note"], publish=uow.add_event)  # fmt: skip
            if photo is not None:
                service.attach_photo(uow.session, actor=caller.actor, attempt=attempt, content=photo, at=now)
            if (values["outcome"] not in SUCCESS.values() and not offline
                    and v["planned_for"] == local_date(now).isoformat()):  # fmt: skip
                planning.replan_day(uow.session, actor=caller.actor, officer=caller.actor, day=v["planned_for"],
                                    now=now, reason=f"visit {v['visit_id']} was not completed", publish=uow.add_event)  # fmt: skip
        except (Invalid, Conflict) as exc:
            field = getattr(exc, "field", None) or "device_id"
            errors.append((field if field in (*values, "photo") else "device_id", str(exc)))
    if errors:
        return _visit_page(request, v, errors, values, 422)
    return RedirectResponse("/field/visits?recorded=" + v["visit_id"], status_code=303)


def _photo_of(form: Any) -> tuple[bytes | None, str]:
    """(the photo's bytes, why it is refused): no file chosen is no photo; a file is checked by its content
    (JPEG or PNG, 1 byte to 5 MB), never by its name or declared type."""
    up = form.get("photo")
    if up is None or isinstance(up, str):
        return None, ""
    name = str(getattr(up, "filename", "") or "")
    content = up.file.read(service.PHOTO_MAX_BYTES + 1)
    if not name and not content:
        return None, ""  # the file input left empty
    try:
        # refused here, before the attempt is recorded; attach_photo keeps it without its metadata
        service.clean_photo(content)
    except Invalid as exc:
        return None, str(exc)
    return content, ""


@router.get("/field/photos/{photo_id}", include_in_schema=False)
def photo(
    photo_id: int,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(signed_in),
) -> Response:
    """A photo of fitted equipment: for the officer of the visit, and for whoever may see the order's case
    (`auth.policy.can_view_case`, with orders:read); anyone else is answered as if it did not exist."""
    from openem.auth.policy import can_view_case
    from openem.field.tables import AttemptPhotoRow
    from openem.orders.queries import case_scopes

    row = uow.session.get(AttemptPhotoRow, photo_id)
    v = queries.visit(uow.session, row.visit_id) if row is not None else None
    p = caller.principal
    allowed = False
    if row is not None and v is not None and p is not None:
        scope = case_scopes(uow.session, [v["order_ref"]]).get(v["order_ref"])
        allowed = (
            v["officer"] == caller.actor
            or row.uploaded_by == caller.actor
            or (p.has("orders:read") and scope is not None and can_view_case(p, scope).allowed)
        )
    if row is None or v is None or not allowed:
        deny_as_missing(request, caller, "photo outside the caller's cases", "There is no such photo",
                        [str(photo_id)])  # fmt: skip
    assert row is not None and v is not None
    audit.record(uow.session, actor=caller.actor, action=f"field:{row.visit_id}:photo:read",
                 records=[row.visit_id, v["order_ref"], v["person_id"]], purpose="see the fitted equipment")  # fmt: skip
    return Response(row.content, media_type=row.media_type,
                    headers={"content-disposition": "inline", "x-content-type-options": "nosniff"})  # fmt: skip


def _recorded_at(text: str, now: datetime) -> tuple[datetime | None, bool]:
    """(when the attempt happened, recorded offline?): an outcome kept on the phone while offline carries the
    time it was recorded (within the last day, not in the future); otherwise it happened now."""
    if not text:
        return now, False
    from datetime import timedelta

    from openem.core.time import parse_instant

    try:
        at = parse_instant(text)
    except (ValueError, TypeError):
        return None, True
    if not now - timedelta(days=1) <= at <= now + timedelta(minutes=2):
        return None, True
    return min(at, now), True


@router.get("/field/sw.js", include_in_schema=False)
def service_worker() -> Response:
    """The offline shift's service worker, served under /field/ so that it may keep the field pages."""
    from pathlib import Path

    body = (Path(__file__).parent / "static" / "sw.js").read_text(encoding="utf-8")
    return Response(body, media_type="application/javascript",
                    headers={"Service-Worker-Allowed": "/field/", "Cache-Control": "no-cache"})  # fmt: skip


MEASURES = require("mi:read")


@router.get("/field/measures", include_in_schema=False)
def measures(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(MEASURES),
) -> Response:
    """Success beside the contract's attempt count, per rule; the backlog older than three days; visits
    waiting for an address check. Counts only: no person is named."""
    m = queries.contract_measure(uow.session)
    b = queries.backlog(uow.session, utcnow())
    checks = len(queries.needing_address_check(uow.session, limit=10_000))
    recovered = queries.recovery_rate(uow.session)
    audit.record(uow.session, actor=caller.actor, action="field:measures:read", purpose="field performance")
    rules = contract.load_contract()["rules"]
    return render(request, "field/measures.html", {"m": m, "b": b, "checks": checks, "rules": rules,
                  "recovered": recovered, "kinds": KIND_LABELS})  # fmt: skip


# ---- the pin of an order's address: shown on the order's page, corrected here by the order's creator ----------
def _pin_for_creator(uow: UnitOfWork, caller: Caller, ref: str, address_type: str) -> dict[str, Any]:
    """The pin, when the caller created the order (or reviews orders); any other caller is answered as missing."""
    from openem.orders.queries import case_scopes

    scope = case_scopes(uow.session, [ref[:40]]).get(ref[:40])
    p = caller.principal
    assert p is not None
    if scope is None or not (scope.created_by == caller.actor or p.has("orders:review")):
        raise NotFound("There is no such address to place")
    pin = next(
        (x for x in queries.pins_of_order(uow.session, ref) if x["address_type"] == address_type[:20]), None
    )
    if pin is None:
        raise NotFound("There is no such address to place")
    return pin


def _pin_page(request: Request, ref: str, pin: dict[str, Any], errors: list[tuple[str, str]],
              values: dict[str, str], status: int = 200) -> Response:  # fmt: skip
    placed = [{"label": f"{pin['address_type'].title()} address {pin['postcode']}".strip(), "lat": pin["lat"],
               "lon": pin["lon"], "curfew": False}] if pin["placed"] else []  # fmt: skip
    context = {"addresses": placed, "zones": [], "places": []}
    return render(request, "field/pin.html",
                  {"title": ("Error: " if errors else "") + f"Place the {pin['address_type'].lower()} address",
                   "ref": ref, "pin": pin, "errors": errors, "values": values,
                   "map_json": json.dumps(context)}, status)  # fmt: skip


@router.get("/field/orders/{ref}/pins/{address_type}", include_in_schema=False)
def pin_page(
    ref: str,
    address_type: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(signed_in),
) -> Response:
    pin = _pin_for_creator(uow, caller, ref, address_type)
    values = {"lat": "" if pin["lat"] is None else f"{pin['lat']:.6f}",
              "lon": "" if pin["lon"] is None else f"{pin['lon']:.6f}"}  # fmt: skip
    return _pin_page(request, ref[:40], pin, [], values)


@router.post(
    "/field/orders/{ref}/pins/{address_type}", include_in_schema=False, dependencies=[Depends(csrf_protect)]
)
def correct_pin(
    ref: str,
    address_type: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(signed_in),
    form: Any = Depends(read_form),
) -> Response:
    pin = _pin_for_creator(uow, caller, ref, address_type)
    values = {k: str(form.get(k, ""))[:30].strip() for k in ("lat", "lon")}
    try:
        lat, lon = float(values["lat"]), float(values["lon"])
    except ValueError:
        return _pin_page(request, ref[:40], pin,
                         [("lat", "Enter the latitude and longitude as numbers, for example 51.4791 and -3.1781")],
                         values, 422)  # fmt: skip
    try:
        service.correct_pin(uow.session, actor=caller.actor, order_ref=ref[:40], address_type=pin["address_type"],
                            lat=lat, lon=lon, at=utcnow(), publish=uow.add_event)  # fmt: skip
    except Invalid as exc:
        return _pin_page(request, ref[:40], pin, [("lat", str(exc))], values, 422)
    return RedirectResponse(f"/orders/{ref[:40]}?pin=moved#addresses-placed", status_code=303)


# ---- a supervisor's urgent work: visits due today that nobody has, placed into an officer's day -------------
SUPERVISE = require("visits:supervise")


def _today() -> tuple[date, datetime]:
    from datetime import timedelta

    today = local_date(utcnow())
    return today, local_to_utc(today + timedelta(days=1), time(0, 0))  # midnight at the end of today


@router.get("/field/supervise", include_in_schema=False)
def supervise(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(SUPERVISE),
) -> Response:
    today, end = _today()
    urgent = queries.urgent_unplanned(uow.session, today.isoformat(), end)
    audit.record(uow.session, actor=caller.actor, action="field:supervise:read",
                 records=[v["visit_id"] for v in urgent], purpose="place urgent field visits")  # fmt: skip
    done = request.query_params.get("placed", "")[:60]
    return render(request, "field/supervise.html",
                  {"title": "Urgent visits", "urgent": urgent, "officers": queries.officers_on(uow.session, today.isoformat()),
                   "kinds": KIND_LABELS, "places": PLACES, "day": today, "placed": done,
                   "why": request.query_params.get("why", "")[:200]})  # fmt: skip


@router.post("/field/supervise", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def supervise_replan(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(SUPERVISE),
    form: Any = Depends(read_form),
) -> Response:
    from urllib.parse import quote

    today, _ = _today()
    visit_id, officer = str(form.get("visit_id", ""))[:60], str(form.get("officer", ""))[:80]
    if officer not in {o for o, _ in queries.officers_on(uow.session, today.isoformat())}:
        return RedirectResponse(
            f"/field/supervise?why={quote('Choose an officer working today')}", status_code=303
        )
    try:
        order, why = planning.replan_day(uow.session, actor=caller.actor, officer=officer, day=today.isoformat(),
                                         now=utcnow(), reason="urgent work added by a supervisor",
                                         publish=uow.add_event, add=[visit_id])  # fmt: skip
    except (Invalid, Conflict, NotFound) as exc:
        return RedirectResponse(f"/field/supervise?why={quote(str(exc)[:200])}", status_code=303)
    if visit_id in order:
        return RedirectResponse(f"/field/supervise?placed={quote(visit_id)}", status_code=303)
    reason = why.get(visit_id, "It could not be planned")
    return RedirectResponse(f"/field/supervise?why={quote(f'{visit_id}: {reason}'[:200])}", status_code=303)
