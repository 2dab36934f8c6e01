"""The rules triage runs with: the built-in rules (version 1, in code) overlaid by the versions operators
wrote (`alert_noise_rules`), and the silences in force. Every change is a new row, named and audited."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openem.alerts.noise import RuleRefused, check_rule, check_silence
from openem.alerts.tables import NoiseRuleRow, SilenceRow
from openem.alerts.triage import DEFAULT_RULES, Rule, Silence
from openem.auth import audit
from openem.core.time import utcnow

#: the built-in escalations: a new version may change their wording, never retire them or make them dry runs
FIXED = frozenset(r.rule_id for r in DEFAULT_RULES if r.action == "escalate")


def rule_versions(session: Session) -> list[dict[str, Any]]:
    """Every version of every rule, built-in ones first, as plain values (the rules page)."""
    out = [{"rule_id": r.rule_id, "version": r.version, "match": r.match, "action": r.action,
            "window_minutes": r.window_minutes, "mode": r.mode, "description": r.description,
            "author": "built in", "reason": "openem default", "created_at": None} for r in DEFAULT_RULES]  # fmt: skip
    for row in session.scalars(select(NoiseRuleRow).order_by(NoiseRuleRow.rule_id, NoiseRuleRow.version)):
        out.append({c.name: getattr(row, c.name) for c in NoiseRuleRow.__table__.columns})
    return out


def effective_rules(session: Session) -> tuple[Rule, ...]:
    """The latest version of each rule, retired ones left out, escalations first then the rest in order."""
    latest: dict[str, Rule | None] = {r.rule_id: r for r in DEFAULT_RULES}
    for row in session.scalars(select(NoiseRuleRow).order_by(NoiseRuleRow.rule_id, NoiseRuleRow.version)):
        latest[row.rule_id] = None if row.mode == "retired" else Rule(
            row.rule_id, row.version, dict(row.match), row.action, row.window_minutes, row.mode, row.description
        )  # fmt: skip
    rules = [r for r in latest.values() if r is not None]
    return tuple(sorted(rules, key=lambda r: r.action != "escalate"))


def active_silences(session: Session, at: datetime | None = None) -> tuple[Silence, ...]:
    """Silences not yet over at `at` (default now); the engine checks each incident's own instant."""
    at = at or utcnow()
    rows = session.scalars(select(SilenceRow).where(SilenceRow.ends > at).order_by(SilenceRow.starts))
    return tuple(Silence(r.silence_id, dict(r.match), r.starts, r.ends, r.author, r.reason) for r in rows)


def save_rule(session: Session, actor: str, form: dict[str, str], author: str = "") -> Rule:
    """A new rule, or a new version of one (including retiring it: mode `retired`); RuleRefused otherwise."""
    rule_id = str(form.get("rule_id") or "").strip()
    mode = str(form.get("mode") or "")
    current = max(
        [r.version for r in DEFAULT_RULES if r.rule_id == rule_id]
        + [
            int(
                session.execute(
                    select(func.max(NoiseRuleRow.version)).where(NoiseRuleRow.rule_id == rule_id)
                ).scalar_one()
                or 0
            )
        ]  # fmt: skip
    )
    if rule_id in FIXED and (mode != "active" or form.get("action") != "escalate"):
        raise RuleRefused("The built-in escalation of proximity, tamper and specials cannot be retired, "
                          "made a dry run or given another action")  # fmt: skip
    if mode == "retired":
        if not current:
            raise RuleRefused(f"There is no rule called {rule_id}")
        if not str(form.get("reason") or "").strip():
            raise RuleRefused("Give the reason for this change")
        base = next(r for r in rule_versions(session)[::-1] if r["rule_id"] == rule_id)
        rule = Rule(
            rule_id, current + 1, dict(base["match"]), str(base["action"]), int(base["window_minutes"])
        )
    else:
        rule = check_rule(rule_id, str(form.get("action") or ""), mode, form.get("window_minutes") or "0",
                          str(form.get("match") or ""), str(form.get("description") or ""),
                          str(form.get("reason") or ""), current + 1)  # fmt: skip
    session.add(NoiseRuleRow(rule_id=rule.rule_id, version=rule.version, match=rule.match, action=rule.action,
                             window_minutes=rule.window_minutes, mode=mode, description=rule.description,
                             author=(author or actor)[:80], reason=str(form["reason"])[:500], created_at=utcnow()))  # fmt: skip
    session.flush()
    audit.record(session, actor=actor, action=f"alerts:rule:{rule.rule_id}:v{rule.version}",
                 records=[rule.rule_id], details={"mode": mode, "action": rule.action, "match": rule.match,
                                                  "reason": str(form["reason"])[:200]})  # fmt: skip
    return rule


def save_silence(session: Session, actor: str, match: dict[str, Any], starts: datetime, ends: datetime,
                 reason: str, author: str = "") -> str:  # fmt: skip
    check_silence(match, starts, ends, reason)
    sid = "SIL-" + secrets.token_hex(5).upper()
    clean = {k: v for k, v in match.items() if v}
    session.add(SilenceRow(silence_id=sid, match=clean, starts=starts, ends=ends, author=(author or actor)[:80],
                           reason=reason[:500], created_at=utcnow(), ended_by=""))  # fmt: skip
    session.flush()
    audit.record(session, actor=actor, action=f"alerts:silence:{sid}:create",
                 records=[str(match.get("order_ref") or ""), str(match.get("person_id") or "")],
                 details={"match": clean, "reason": reason[:200], "ends": ends.isoformat()})  # fmt: skip
    return sid


def end_silence(session: Session, actor: str, silence_id: str, reason: str, author: str = "") -> None:
    row = session.get(SilenceRow, silence_id[:40])
    if row is None:
        raise RuleRefused("There is no such silence")
    now = utcnow()
    if row.ends <= now:
        raise RuleRefused("That silence has already ended")
    if not reason.strip():
        raise RuleRefused("Give the reason for ending the silence early")
    row.ends, row.ended_by = max(now, row.starts), (author or actor)[:80]
    session.flush()
    audit.record(session, actor=actor, action=f"alerts:silence:{silence_id}:end", records=[silence_id],
                 details={"reason": reason[:200]})  # fmt: skip


def silences(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    rows = session.scalars(select(SilenceRow).order_by(SilenceRow.ends.desc()).limit(limit))
    return [{c.name: getattr(r, c.name) for c in SilenceRow.__table__.columns} for r in rows]
