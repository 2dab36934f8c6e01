"""Breach use cases: open a breach from an escalated incident and issue its pack, a new pack version on new
evidence, record responses, stamp delivery and acknowledgement, send reminders. Each takes a unit of work;
events and audit rows go into its commit."""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from openem.breaches import packs, rules
from openem.breaches.events import BreachOpened, PackIssued, ReminderDue, ResponseRecorded
from openem.breaches.model import DECISION_STEP, OUTCOME_STEP, Recorded, ResponseRefused, check_response
from openem.breaches.tables import BreachPackRow, BreachResponseRow, BreachRow
from openem.bus.loop import WakeableLoop
from openem.core.time import iso, utcnow
from openem.web.rendering import as_datetime, london_time

ROUTING = rules.load_routing()
REMINDERS = rules.load_reminders()


def breach_id_for(incident_id: str) -> str:
    return "BR-" + hashlib.sha256(incident_id.encode()).hexdigest()[:12].upper()


def as_dict(row: BreachRow) -> dict[str, Any]:
    return {c.name: getattr(row, c.name) for c in BreachRow.__table__.columns}


def stamps_of(row: BreachRow) -> dict[str, datetime | None]:
    return {"violation_start": row.violation_start, "detected": row.detected_at,
            "incident": row.incident_opened_at, "confirmed": row.confirmed_at, "pack": row.pack_at,
            "delivered": row.delivered_at, "acknowledged": row.acknowledged_at, "decision": row.decided_at,
            "outcome": row.outcome_at}  # fmt: skip


def stamps_of_dict(b: dict[str, Any]) -> dict[str, datetime | None]:
    return {"violation_start": b["violation_start"], "detected": b.get("detected_at"),
            "incident": b.get("incident_opened_at"), "confirmed": b["confirmed_at"], "pack": b.get("pack_at"),
            "delivered": b.get("delivered_at"), "acknowledged": b.get("acknowledged_at"),
            "decision": b.get("decided_at"), "outcome": b.get("outcome_at")}  # fmt: skip


def new_breach(incident: dict[str, Any], episodes: list[dict[str, Any]], doc: dict[str, Any],
               now: datetime) -> dict[str, Any]:  # fmt: skip
    """The breach's fields from the incident, its episodes and the order document (pure)."""
    route = rules.route_breach(doc, ROUTING)
    facts = rules.order_facts(doc)
    starts = [d for d in (as_datetime(e.get("start")) for e in episodes) if d]
    detected = [d for d in (as_datetime(e.get("detected_at")) for e in episodes) if d]
    confirmed = as_datetime(incident.get("confirmed_at")) or now
    if str(incident.get("confirmed_by") or "").startswith("policy:") and detected:
        # triage stamps a policy escalation with the episode's start; it cannot have been confirmed before the
        # engine detected it, so the clocks count from the latest detection (the earliest honest instant)
        confirmed = max(confirmed, max(detected))
    opened = as_datetime(incident.get("opened_at"))
    violation_start = min(starts) if starts else (opened or confirmed)
    return {
        "breach_id": breach_id_for(str(incident["incident_id"])), "incident_id": str(incident["incident_id"])[:40],
        "person_id": str(incident.get("person_id") or "")[:40], "order_ref": str(incident.get("order_ref") or "")[:40],
        "cohort": facts["cohort"][:30], "template": rules.template_for(facts["cohort"]),
        "agency": route.agency, "team": route.team[:200], "officer": route.officer[:200], "urgency": route.urgency,
        "route_rule": route.rule_id, "route_version": route.rule_version,
        "kinds": sorted({str(k) for k in incident.get("kinds") or []})[:50],
        "situation": str(incident.get("situation") or "")[:120],
        "period_start": rules.violation_period(violation_start).start, "violation_start": violation_start,
        "detected_at": min(detected) if detected else None, "incident_opened_at": opened,
        "confirmed_at": confirmed, "confirmed_by": str(incident.get("confirmed_by") or "")[:120],
    }  # fmt: skip


def evidence_key(episodes: list[dict[str, Any]]) -> str:
    """What a pack was made from: the episodes' ids, revisions, ends and evidence (a change = new evidence)."""
    parts = sorted(f"{e.get('episode_id') or e.get('alert_id')}|{e.get('revision')}|{e.get('end')}|"
                   f"{len(e.get('evidence') or [])}" for e in episodes)  # fmt: skip
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _norm_trail(points: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**p, "device_time": p.get("device_time") or p.get("time")} for p in points]


def gather(session: Session, breach: dict[str, Any], episodes: list[dict[str, Any]],
           now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:  # fmt: skip
    """The trail around the breach and the evidence messages, through telemetry's queries."""
    from openem.telemetry.queries import evidence_messages, trail_of_person

    ends = [d for d in (as_datetime(e.get("end")) for e in episodes) if d]
    start = breach["violation_start"] - timedelta(minutes=30)
    end = min(
        max([*ends, breach["violation_start"]]) + timedelta(minutes=30), max(now, breach["violation_start"])
    )
    trail = _norm_trail(
        trail_of_person(session, breach["person_id"], start, end + timedelta(seconds=1), limit=5000)
    )
    keys = [(str(d), int(s)) for e in episodes for d, s, *_ in (e.get("evidence") or [])
            if isinstance(s, int | float | str) and str(s).lstrip("-").isdigit()][:2000]  # fmt: skip
    return trail, evidence_messages(session, keys) if keys else []


def device_health(session: Session, breach: dict[str, Any], episodes: list[dict[str, Any]],
                  now: datetime) -> dict[str, Any]:  # fmt: skip
    """The wearer's devices as they were at the end of the breach (or now, if it is still going on), from
    telemetry's public query: latest battery, home unit, strap, fix and message of any kind (a day back at most)."""
    from openem.telemetry.queries import device_health_at

    if not breach.get("person_id"):
        return {}
    ends = [d for d in (as_datetime(e.get("end")) for e in episodes) if d]
    at = min(max([*ends, breach["violation_start"]]), max(now, breach["violation_start"]))
    return device_health_at(session, breach["person_id"], at)


def previous_breaches(
    session: Session, person_id: str, before: datetime, breach_id: str
) -> list[dict[str, Any]]:
    if not person_id:
        return []
    rows = session.execute(
        select(BreachRow.breach_id, BreachRow.confirmed_at, BreachRow.kinds, BreachRow.decision)
        .where(BreachRow.person_id == person_id, BreachRow.confirmed_at < before, BreachRow.breach_id != breach_id)
        .order_by(BreachRow.confirmed_at.desc()).limit(20)
    ).all()  # fmt: skip
    return [{"breach_id": b, "confirmed_at": iso(at), "headline": "; ".join(packs.kind_label(k) for k in kinds),
             "outcome": d} for b, at, kinds, d in rows]  # fmt: skip


def make_pack(breach: dict[str, Any], doc: dict[str, Any], episodes: list[dict[str, Any]],
              trail: list[dict[str, Any]], evidence: list[dict[str, Any]], previous: list[dict[str, Any]],
              stamps: dict[str, datetime | None], version: int, at: datetime,
              annex_table: bool = False, health_at: dict[str, Any] | None = None) -> packs.RenderedPack:  # fmt: skip
    document = packs.build_document(breach, doc, episodes, trail, evidence, previous, stamps, version, at,
                                    health_at=health_at)  # fmt: skip
    return packs.render(document, trail, annex_table=annex_table)


def _order_doc(session: Session, order_ref: str) -> dict[str, Any]:
    from openem.orders.queries import order_documents

    found = order_documents(session, [order_ref]) if order_ref else {}
    return found[order_ref][0] if order_ref in found else {}


def _episodes(session: Session, incident: dict[str, Any]) -> list[dict[str, Any]]:
    from openem.alerts.queries import incident as incident_query

    stored = incident_query(session, str(incident["incident_id"]))
    return list((stored or {}).get("episodes") or [])


def open_breach(uow: Any, incident: dict[str, Any], now: datetime | None = None) -> BreachRow | None:
    """A breach from an escalated incident, with pack version 1 issued. Idempotent per incident."""
    session: Session = uow.session
    now = now or utcnow()
    if not incident.get("incident_id"):
        return None
    existing = session.scalars(
        select(BreachRow).where(BreachRow.incident_id == str(incident["incident_id"])[:40])
    ).first()
    if existing is not None:
        return existing
    episodes = _episodes(session, incident)
    doc = _order_doc(session, str(incident.get("order_ref") or ""))
    fields = new_breach(incident, episodes, doc, now)
    row = BreachRow(**fields, created_at=now, reminders=[], state="open", pack_version=0)
    session.add(row)
    session.flush()
    uow.add_event(BreachOpened(breach_id=row.breach_id, incident_id=row.incident_id, person_id=row.person_id,
                               order_ref=row.order_ref, agency=row.agency, team=row.team))  # fmt: skip
    uow.add_audit(actor="system:breaches", action=f"breaches:{row.breach_id}:open", records=[row.order_ref, row.person_id],
                  details={"incident_id": row.incident_id, "agency": row.agency, "team": row.team,
                           "rule": f"{row.route_rule}@v{row.route_version}"})  # fmt: skip
    issue_pack(uow, row, episodes, doc, "first version", now)
    return row


def issue_pack(uow: Any, row: BreachRow, episodes: list[dict[str, Any]], doc: dict[str, Any], reason: str,
               now: datetime) -> BreachPackRow | None:  # fmt: skip
    """A new pack version (the old ones kept), unless the evidence is the same as the latest version's."""
    session: Session = uow.session
    key = evidence_key(episodes)
    latest = session.get(BreachPackRow, (row.breach_id, row.pack_version)) if row.pack_version else None
    if latest is not None and latest.evidence_key == key:
        return None
    version = row.pack_version + 1
    breach = as_dict(row)
    trail, evidence = gather(session, breach, episodes, now)
    previous = previous_breaches(session, row.person_id, row.confirmed_at, row.breach_id)
    stamps = {**stamps_of(row), "pack": now}
    health = device_health(session, breach, episodes, now)
    rendered = make_pack(
        breach, doc, episodes, trail, evidence, previous, stamps, version, now, health_at=health
    )
    pack = BreachPackRow(breach_id=row.breach_id, version=version, created_at=now, reason=reason[:200],
                         document=rendered.document, json_text=rendered.json_text, html=rendered.html,
                         pdf=rendered.pdf, sha256_json=rendered.sha256_json, sha256_html=rendered.sha256_html,
                         sha256_pdf=rendered.sha256_pdf, evidence_key=key)  # fmt: skip
    session.add(pack)
    row.pack_version, row.pack_sha256 = version, rendered.sha256_pdf
    row.pack_at = row.pack_at or now
    session.flush()
    uow.add_audit(actor="system:breaches", action=f"breaches:{row.breach_id}:pack:v{version}",
                  records=[row.order_ref, row.person_id],
                  details={"sha256_pdf": rendered.sha256_pdf, "sha256_html": rendered.sha256_html,
                           "sha256_json": rendered.sha256_json, "reason": reason[:200]})  # fmt: skip
    s = rendered.document["summary"]
    uow.add_event(PackIssued(
        breach_id=row.breach_id, version=version, order_ref=row.order_ref, person_id=row.person_id,
        agency=row.agency, team=row.team, officer=row.officer, urgency=row.urgency,
        title=f"{'URGENT: ' if row.urgency == 'immediate' else ''}Breach {row.breach_id}: {s['headline']}"[:300],
        summary=f"{rendered.document['person']['name']}, order {row.order_ref}. {s['headline']} from "
                f"{london_time(s['from'])}. {rendered.document['policy_suggestion']}."[:2000],
        sha256=rendered.sha256_pdf, link=f"/breaches/{row.breach_id}",
        pack=_webhook_pack(rendered.document)))  # fmt: skip
    return pack


def _webhook_pack(document: dict[str, Any]) -> dict[str, Any]:
    """The JSON pack without the annex's positions (agency systems fetch the full pack from the API)."""
    return {**document, "annex": {**document["annex"], "positions": []}}


def on_incident_escalated(payload: dict[str, Any], uow: Any) -> None:
    """Bus handler for `alerts.IncidentEscalated`."""
    incident = payload.get("incident")
    if isinstance(incident, dict):
        open_breach(uow, incident)


def refresh_pack(uow: Any, breach_id: str, actor: str, now: datetime | None = None) -> BreachPackRow | None:
    """A new pack version when the incident's evidence changed since the latest version (else None)."""
    row = uow.session.get(BreachRow, breach_id)
    if row is None:
        raise KeyError(breach_id)
    episodes = _episodes(uow.session, {"incident_id": row.incident_id})
    return issue_pack(uow, row, episodes, _order_doc(uow.session, row.order_ref), f"new evidence ({actor})"[:200],
                      now or utcnow())  # fmt: skip


# -- responses ------------------------------------------------------------------------------------------------


def record_response(uow: Any, breach_id: str, responder_agency: str, actor: str, step: str, value: str = "",
                    note: str = "", submission_key: str = "", now: datetime | None = None) -> dict[str, Any]:  # fmt: skip
    """Record one step of a response. A repeat of the same submission (same key) returns the first; another
    agency's breach, a step already recorded or out of order is refused (ResponseRefused), and audited."""
    session: Session = uow.session
    now = now or utcnow()
    row = session.get(BreachRow, breach_id, with_for_update=True)
    if row is None:
        raise KeyError(breach_id)
    key = (submission_key or f"{responder_agency}:{step}")[:80]
    same = session.scalars(select(BreachResponseRow).where(BreachResponseRow.breach_id == breach_id,
                                                           BreachResponseRow.submission_key == key)).first()  # fmt: skip
    if same is not None and same.step == step and same.value == value and same.agency == responder_agency:
        return {"breach_id": breach_id, "step": same.step, "value": same.value, "repeat": True}
    history = [Recorded(r.agency, r.step, r.value) for r in session.scalars(
        select(BreachResponseRow).where(BreachResponseRow.breach_id == breach_id).order_by(BreachResponseRow.response_id))]  # fmt: skip
    try:
        if same is not None:
            raise ResponseRefused("duplicate", "this submission was already recorded with other values")
        check_response(row.agency, row.template, responder_agency, step, value, history)
    except ResponseRefused as exc:
        uow.add_audit(actor=actor, action=f"breaches:{breach_id}:response:refused", records=[row.order_ref],
                      outcome="refused", details={"code": exc.code, "step": step[:40], "agency": responder_agency[:30],
                                                  "reason": str(exc)[:200]})  # fmt: skip
        raise
    session.add(BreachResponseRow(breach_id=breach_id, agency=responder_agency, step=step, value=value,
                                  note=note[:2000], by=actor[:120], at=now, submission_key=key))  # fmt: skip
    if step == "receive":
        row.acknowledged_at = row.acknowledged_at or now
    if step == DECISION_STEP.get(responder_agency):
        row.decided_at = row.decided_at or now
        row.decision = value
        row.state = "decided"
    if step == OUTCOME_STEP.get(responder_agency) and (responder_agency == "court" or row.template != "bail"
                                                        or row.agency != "police"):  # fmt: skip
        row.outcome_at, row.state = now, "closed"
    elif step == OUTCOME_STEP.get(responder_agency) and row.outcome_at is None:
        row.outcome_at = now  # police updated the centre; a court decision may still follow
    session.flush()
    uow.add_event(ResponseRecorded(breach_id=breach_id, order_ref=row.order_ref, agency=responder_agency,
                                   step=step, value=value))  # fmt: skip
    uow.add_audit(actor=actor, action=f"breaches:{breach_id}:response:{step}", records=[row.order_ref],
                  details={"agency": responder_agency, "value": value})  # fmt: skip
    return {"breach_id": breach_id, "step": step, "value": value, "repeat": False}


def responses(session: Session, breach_id: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(BreachResponseRow).where(BreachResponseRow.breach_id == breach_id)
                           .order_by(BreachResponseRow.response_id))  # fmt: skip
    return [{"agency": r.agency, "step": r.step, "value": r.value, "note": r.note, "by": r.by, "at": r.at}
            for r in rows]  # fmt: skip


# -- delivery stamps (from notify's events) -------------------------------------------------------------------


def on_message_delivered(payload: dict[str, Any], uow: Any) -> None:
    """`notify.MessageDelivered`: the first delivery of the pack stamps the clock's "delivered"."""
    if payload.get("subject_kind") != "breach":
        return
    row = uow.session.get(BreachRow, str(payload.get("subject_id") or ""))
    at = as_datetime(payload.get("at"))
    if row is not None and at is not None and (row.delivered_at is None or at < row.delivered_at):
        row.delivered_at = at


def on_message_acknowledged(payload: dict[str, Any], uow: Any) -> None:
    if payload.get("subject_kind") != "breach":
        return
    row = uow.session.get(BreachRow, str(payload.get("subject_id") or ""))
    at = as_datetime(payload.get("at"))
    if row is not None and at is not None and row.acknowledged_at is None:
        row.acknowledged_at = at


# -- reminders --------------------------------------------------------------------------------------------


def run_reminders(uow: Any, now: datetime | None = None) -> list[tuple[str, str]]:
    """Reminders (and escalations above them) for breaches with no outcome past their thresholds (data:
    reminders.json). Each is sent once. Returns (breach id, level)."""
    now = now or utcnow()
    sent: list[tuple[str, str]] = []
    for row in uow.session.scalars(select(BreachRow).where(BreachRow.outcome_at.is_(None))):
        policy = rules.reminder_policy(REMINDERS, row.agency, row.urgency)
        done = [str(r.get("level")) for r in row.reminders]
        for level in rules.reminders_due(policy, row.delivered_at, row.outcome_at, done, now):
            row.reminders = [
                *row.reminders,
                {"level": level, "at": iso(now), "policy_version": policy.version},
            ]
            team = row.team if level == "remind" else f"{row.team}:managers"
            uow.add_event(ReminderDue(breach_id=row.breach_id, order_ref=row.order_ref, team=team,
                                      officer=row.officer if level == "remind" else "", level=level,
                                      title=(f"No outcome recorded for breach {row.breach_id}" if level == "remind"
                                             else f"Escalated: breach {row.breach_id} has no outcome"),
                                      link=f"/breaches/{row.breach_id}"))  # fmt: skip
            uow.add_audit(actor="system:breaches", action=f"breaches:{row.breach_id}:reminder:{level}",
                          records=[row.order_ref], details={"policy_version": policy.version})  # fmt: skip
            sent.append((row.breach_id, level))
    return sent


class ReminderLoop(WakeableLoop):
    """Runs `run_reminders` every `interval_s` in the server (a `bus.loop.WakeableLoop`, like the outbox
    dispatcher and notify's deliverer). Its first step only warms up the PDF renderer; the first round of
    reminders comes one interval after the start, as before."""

    loop_name = "breach-reminders"

    def __init__(self, db: Any, interval_s: float = 300.0) -> None:
        super().__init__()
        self.db, self.interval_s = db, interval_s
        self._warmed = False

    def start(self, interval_s: float | None = None) -> None:
        super().start(self.interval_s if interval_s is None else interval_s)

    def step(self) -> None:
        if not self._warmed:
            self._warmed = True
            try:  # the first PDF of a process loads fonts and WeasyPrint (~1.5 s): not on a breach's clock
                packs.warm()
            except Exception:  # noqa: BLE001 - a pack will pay for it instead
                logging.getLogger("openem.breaches").exception("pack warm-up failed")
            return
        with self.db.uow() as uow:
            run_reminders(uow)
