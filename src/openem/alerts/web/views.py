"""Alerts as they arrive (the demo's window on the engine; full triage comes with breach management):
a live list, and an alert's page with its evidence on a map and in a table. Reading evidence positions is
reading location data, so it is audited with the purpose the page gives."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select

from openem.alerts.queries import episodes_for_alerts, open_alert_count
from openem.alerts.tables import AlertRow
from openem.alerts.web.reads import alert_reads, plain_details, zones_named_by_kind
from openem.alerts.words import episode_words
from openem.auth import audit
from openem.auth.policy import can_view_case
from openem.core.errors import NotFound
from openem.monitoring.catalogue import describe
from openem.orders.queries import case_scopes, map_context
from openem.store.db import UnitOfWork
from openem.telemetry.queries import evidence_messages
from openem.web.deps import Caller, deny_as_missing, get_uow, require
from openem.web.figures import Figure
from openem.web.rendering import render

router = APIRouter()


def _visible(uow: UnitOfWork, caller: Caller, rows: list[AlertRow]) -> list[AlertRow]:
    assert caller.principal is not None
    if caller.principal.has("cases:all") and caller.principal.has("cases:restricted"):
        return rows
    scopes = case_scopes(uow.session, {r.order_ref for r in rows})
    out = []
    for r in rows:
        scope = scopes.get(r.order_ref)
        if scope is None:
            if caller.principal.has("cases:all"):
                out.append(r)  # device alerts with no order (e.g. no activation) are the monitoring centre's
        elif can_view_case(caller.principal, scope).allowed:
            out.append(r)
    return out


def alert_json(a: AlertRow, episode: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "alert_id": a.alert_id,
        "kind": a.kind,
        "label": describe(a.kind).label,
        "description": describe(a.kind).description,
        "severity": a.severity,
        "order_ref": a.order_ref,
        "person_id": a.person_id,
        "device_id": a.device_id,
        "condition_id": a.condition_id,
        "start": a.start.isoformat(),
        "end": a.end.isoformat() if a.end else None,
        "detected_at": a.detected_at.isoformat(),
        "late_detected": a.late_detected,
        "status": a.status,
        "evidence_count": len(a.evidence or []),
        "episode": episode_words(episode),  # open or closed, with its measures, in words ("" with none yet)
    }


def _with_episodes(uow: UnitOfWork, rows: list[AlertRow]) -> list[dict[str, Any]]:
    eps = episodes_for_alerts(uow.session, [r.alert_id for r in rows])
    return [alert_json(r, eps.get(r.alert_id)) for r in rows]


@router.get("/api/alerts", tags=["alerts"])
def list_alerts(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    kind: str | None = Query(None, max_length=40),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> list[dict[str, Any]]:
    stmt = select(AlertRow).order_by(AlertRow.detected_at.desc(), AlertRow.alert_id).limit(limit * 4)
    if kind:
        stmt = stmt.where(AlertRow.kind == kind)
    rows = _visible(uow, caller, list(uow.session.execute(stmt).scalars()))[:limit]
    record_list_read(request, uow, caller, rows, page_view=False)
    return [alert_json(r) for r in rows]


def record_list_read(
    request: Request, uow: UnitOfWork, caller: Caller, rows: list[AlertRow], *, page_view: bool
) -> None:
    """Audit a read of the alerts list (decision 0018): a page view or an API client's call always; the page's
    own polling only when it shows this session alerts not yet recorded for it, naming just those."""
    ids = [r.alert_id for r in rows]
    ws = caller.web_session
    new = alert_reads(request.app.state).unrecorded(ws.id, ids) if ws is not None else ids
    if page_view or ws is None:
        audit.record(uow.session, actor=caller.actor, action="alerts:list:read", records=ids)
    elif new:
        audit.record(
            uow.session,
            actor=caller.actor,
            action="alerts:list:read",
            records=new,
            details={"polled": True, "shown": len(ids)},
        )


def load_alert(
    request: Request, uow: UnitOfWork, caller: Caller, alert_id: str, purpose: str
) -> tuple[AlertRow, list[dict[str, Any]]]:
    row = uow.session.get(AlertRow, alert_id[:64])
    if row is None:
        raise NotFound("There is no such alert")
    if not _visible(uow, caller, [row]):  # answered as a missing alert, so that alert ids cannot be probed
        deny_as_missing(
            request,
            caller,
            "alert outside your cases",
            "There is no such alert",
            records=[row.alert_id, row.order_ref],
        )
    keys = [(d, int(s)) for d, s in (row.evidence or [])][:500]
    points = []
    for m in evidence_messages(uow.session, keys):
        p = m["payload"]
        points.append(
            {
                "device_id": m["device_id"],
                "seq": m["seq"],
                "type": m["type"],
                "time": m["device_time"].isoformat(),
                "lat": p.get("lat"),
                "lon": p.get("lon"),
                "accuracy_m": p.get("accuracy_m"),
                "flags": m["flags"],
                "payload": p,
            }
        )
    audit.record(
        uow.session,
        actor=caller.actor,
        action=f"alerts:{row.alert_id}:read_evidence",
        records=[row.alert_id, row.order_ref, row.person_id],
        purpose=purpose[:500],
        details={"points": len(points)},
    )
    return row, points


@router.get("/api/alerts/{alert_id}", tags=["alerts"])
def get_alert(
    alert_id: str,
    request: Request,
    purpose: str = Query("", max_length=500),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> dict[str, Any]:
    row, points = load_alert(request, uow, caller, alert_id, purpose)
    return {**_with_episodes(uow, [row])[0], "details": row.details, "evidence": points}


@router.get("/alerts", include_in_schema=False)
def alerts_page(
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> Response:
    stmt = select(AlertRow).order_by(AlertRow.detected_at.desc(), AlertRow.alert_id).limit(200)
    rows = _visible(uow, caller, list(uow.session.execute(stmt).scalars()))[:50]
    record_list_read(request, uow, caller, rows, page_view=True)
    live = getattr(request.app.state, "live", None)
    return render(request, "alerts/list.html", {"alerts": _with_episodes(uow, rows), "live": live})


@router.get("/alerts/{alert_id}", include_in_schema=False)
def alert_page(
    alert_id: str,
    request: Request,
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> Response:
    row, points = load_alert(request, uow, caller, alert_id, "view alert evidence")
    import json

    geo = [p for p in points if p["lat"] is not None and p["lon"] is not None]
    # the order's addresses and zones, drawn around the evidence
    context = zones_named_by_kind(map_context(uow.session, row.order_ref))
    return render(
        request,
        "alerts/detail.html",
        {
            "a": _with_episodes(uow, [row])[0],
            "details": plain_details(row.details),
            "points": points,
            "geo_json": json.dumps(geo),
            "context_json": json.dumps(context),
            "has_context": bool(context["addresses"] or context["zones"]),
        },
    )


def home_figures(session: Any, principal: Any) -> list[Figure]:
    """The monitoring centre's open alerts (fleet-wide: only for those who see every case)."""
    if not (principal.has("alerts:read") and principal.has("cases:all")):
        return []
    from openem.alerts.queries import incident_count

    return [
        Figure(open_alert_count(session), "open alerts", "/alerts", "open alert"),
        Figure(
            incident_count(session), "incidents needing a person", "/incidents", "incident needing a person"
        ),
    ]
