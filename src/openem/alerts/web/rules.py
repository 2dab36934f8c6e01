"""Noise rules and silences on pages: each version with its author and reason; a rule that does not parse or
that would keep proximity, tamper or specials from a person is refused with the reason; every change audited."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from openem.alerts import rulebook
from openem.alerts.noise import RuleRefused
from openem.alerts.triage import ACTIONS
from openem.core.time import utcnow
from openem.store.db import UnitOfWork
from openem.web.deps import Caller, csrf_protect, get_uow, read_form, require
from openem.web.rendering import london_time, render

router = APIRouter()
ACTION_LABELS = {"suppress": "Suppress (counted, no person)", "suspend_until_resolved": "Suspend until resolved",
                 "inhibit": "Inhibit (explained by a device fault)", "hold": "Hold for more evidence",
                 "escalate": "Escalate at once", "confirm": "Send to the official as a breach"}  # fmt: skip
DONE = {"rule": "Rule saved as a new version", "silence": "Silence set", "ended": "Silence ended"}


def _name(caller: Caller) -> str:
    """Authors are shown by user name; the audit record keeps the user id."""
    return caller.principal.username if caller.principal else caller.actor


def _rules_ctx(uow: UnitOfWork, form: dict[str, Any], errors: list[Any], done: str = "") -> dict[str, Any]:
    versions = rulebook.rule_versions(uow.session)
    in_force = {(r.rule_id, r.version) for r in rulebook.effective_rules(uow.session)}
    for v in versions:
        v["in_force"] = (v["rule_id"], v["version"]) in in_force
        v["match_text"] = json.dumps(v["match"], sort_keys=True)
        v["when"] = london_time(v["created_at"]) if v["created_at"] else "Built in"
    return {"versions": versions, "form": form, "errors": errors, "actions": [(a, ACTION_LABELS[a]) for a in ACTIONS],
            "done": DONE.get(done, "")}  # fmt: skip


@router.get("/incidents/rules", include_in_schema=False)
def rules_page(
    request: Request,
    edit: str = "",
    done: str = "",
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> Response:
    form: dict[str, Any] = {"mode": "monitor", "window_minutes": "0", "match": "{}"}
    latest = {r.rule_id: r for r in rulebook.effective_rules(uow.session)}
    if edit[:60] in latest:
        r = latest[edit[:60]]
        form = {"rule_id": r.rule_id, "action": r.action, "mode": r.mode, "window_minutes": str(r.window_minutes),
                "match": json.dumps(r.match, sort_keys=True), "description": r.description}  # fmt: skip
    return render(request, "alerts/rules.html", _rules_ctx(uow, form, [], done))


@router.post("/incidents/rules", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def rules_save(
    request: Request,
    form: Any = Depends(read_form),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:handle")),
) -> Response:
    values = {k: str(form.get(k) or "")[:4000] for k in
              ("rule_id", "action", "mode", "window_minutes", "match", "description", "reason")}  # fmt: skip
    try:
        rulebook.save_rule(uow.session, caller.actor, values, author=_name(caller))
    except RuleRefused as exc:
        return render(
            request, "alerts/rules.html", _rules_ctx(uow, values, [("rule_id", str(exc))]), status=422
        )
    return RedirectResponse("/incidents/rules?done=rule", status_code=303)


def _silences_ctx(uow: UnitOfWork, form: dict[str, Any], errors: list[Any], done: str = "") -> dict[str, Any]:
    now = utcnow()
    rows = rulebook.silences(uow.session)
    for r in rows:
        r["active"] = r["starts"] <= now < r["ends"]
        r["over"] = r["ends"] <= now
        r["from"], r["to"] = london_time(r["starts"]), london_time(r["ends"])
        m = r["match"]
        r["what"] = ", ".join(
            f"{k.replace('_', ' ')} {', '.join(v) if isinstance(v, list) else v}" for k, v in m.items()
        )
    return {"silences": rows, "form": form, "errors": errors, "done": DONE.get(done, "")}


@router.get("/incidents/silences", include_in_schema=False)
def silences_page(
    request: Request,
    done: str = "",
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:read")),
) -> Response:
    return render(request, "alerts/silences.html", _silences_ctx(uow, {"hours": "2"}, [], done))


@router.post("/incidents/silences", include_in_schema=False, dependencies=[Depends(csrf_protect)])
def silences_save(
    request: Request,
    form: Any = Depends(read_form),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:handle")),
) -> Response:
    values = {
        k: str(form.get(k) or "").strip()[:500]
        for k in ("person_id", "order_ref", "kinds", "hours", "reason")
    }
    try:
        try:
            hours = float(values["hours"])
        except ValueError:
            raise RuleRefused("Enter how many hours the silence lasts, as a number") from None
        if not 0 < hours <= 14 * 24:
            raise RuleRefused("A silence lasts more than 0 hours and at most 14 days")
        kinds = [k.strip() for k in values["kinds"].split(",") if k.strip()][:20]
        match = {
            "person_id": values["person_id"][:40],
            "order_ref": values["order_ref"][:40].upper(),
            "kinds": kinds,
        }
        starts = utcnow()
        rulebook.save_silence(uow.session, caller.actor, match, starts, starts + timedelta(hours=hours),
                              values["reason"], author=_name(caller))  # fmt: skip
    except RuleRefused as exc:
        return render(request, "alerts/silences.html", _silences_ctx(uow, values, [("person_id", str(exc))]),
                      status=422)  # fmt: skip
    return RedirectResponse("/incidents/silences?done=silence", status_code=303)


@router.post(
    "/incidents/silences/{silence_id}/end", include_in_schema=False, dependencies=[Depends(csrf_protect)]
)
def silence_end(
    silence_id: str,
    request: Request,
    form: Any = Depends(read_form),
    uow: UnitOfWork = Depends(get_uow, scope="function"),
    caller: Caller = Depends(require("alerts:handle")),
) -> Response:
    try:
        rulebook.end_silence(uow.session, caller.actor, silence_id, str(form.get("reason") or "")[:500],
                             author=_name(caller))  # fmt: skip
    except RuleRefused as exc:
        return render(request, "alerts/silences.html", _silences_ctx(uow, {"hours": "2"}, [("person_id", str(exc))]),
                      status=422)  # fmt: skip
    return RedirectResponse("/incidents/silences?done=ended", status_code=303)
