"""Pure breach rules: routing (data in routing.json), violation periods and today's contract deadlines, the
pack template, what policy suggests, reminders (data in reminders.json) and the clocks of a breach."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from importlib import resources
from typing import Any

from openem.core.time import local_date, local_to_utc, violation_period_start

AGENCIES = ("police", "probation", "home_office", "youth_justice", "court", "monitoring_centre")
#: order document's `interested_parties.responsible_organisation` -> agency
ORGANISATION_AGENCY = {"POLICE": "police", "PROBATION": "probation", "HOME_OFFICE": "home_office",
                       "YJS": "youth_justice"}  # fmt: skip
BAIL_COHORTS = frozenset({"COURT_BAIL", "IMMIGRATION_BAIL"})


@dataclass(frozen=True)
class RoutingRule:
    rule_id: str
    version: int
    match: dict[str, Any]
    agency: str
    team: str
    officer: str
    urgency: str


@dataclass(frozen=True)
class Route:
    agency: str
    team: str
    officer: str
    urgency: str
    rule_id: str
    rule_version: int


def load_routing(text: str | None = None) -> tuple[RoutingRule, ...]:
    """The routing rules (routing.json by default). A rule that does not parse is refused with its id."""
    raw = json.loads(
        text if text is not None else resources.files(__package__).joinpath("routing.json").read_text()
    )
    version = int(raw.get("version", 1))
    rules = []
    for r in raw["rules"]:
        if (
            not isinstance(r, dict)
            or not isinstance(r.get("id"), str)
            or not isinstance(r.get("match"), dict)
        ):
            raise ValueError(f"routing rule does not parse: {str(r)[:80]}")
        if r.get("urgency", "standard") not in ("standard", "immediate"):
            raise ValueError(f"routing rule {r['id']}: urgency must be standard or immediate")
        rules.append(RoutingRule(r["id"], version, dict(r["match"]), str(r["agency"]), str(r["team"]),
                                 str(r.get("officer", "")), str(r.get("urgency", "standard"))))  # fmt: skip
    if not rules or rules[-1].match:
        raise ValueError("routing rules must end with a catch-all rule (empty match)")
    return tuple(rules)


def order_facts(doc: dict[str, Any]) -> dict[str, Any]:
    """The facts routing reads from an order document (missing parts are empty strings)."""
    parties, monitoring = part(doc, "interested_parties"), part(doc, "monitoring")
    risk, wearer = part(doc, "offence_risk"), part(doc, "device_wearer")
    cohort = str(monitoring.get("cohort") or "")
    youth = bool(monitoring.get("is_youth")) or wearer.get("is_adult") is False
    org = str(parties.get("responsible_organisation") or "")
    agency = ORGANISATION_AGENCY.get(org, "probation" if cohort == "SPECIALS" else "")
    facts: dict[str, Any] = {k: _clean(parties.get(k)) for k in ("probation_region", "delivery_unit", "police_area",
                                                  "responsible_officer_email", "notifying_organisation_name")}  # fmt: skip
    facts.update(cohort=cohort, is_youth=youth, specials=bool(risk.get("specials")) or cohort == "SPECIALS",
                 responsible_agency=agency or "probation")  # fmt: skip
    return facts


def part(doc: dict[str, Any], name: str) -> dict[str, Any]:
    """A part of an order document as a dict (an empty one when missing or malformed)."""
    value = doc.get(name)
    return value if isinstance(value, dict) else {}


def _clean(value: Any) -> str:
    """Text safe to put in a team key: no separators, no braces, short."""
    text = "" if value is None else str(value)
    return "".join(c for c in text if c.isalnum() or c in "._-@")[:80]


def _matches(match: dict[str, Any], facts: dict[str, Any]) -> bool:
    for key, want in match.items():
        have = facts.get(key)
        if isinstance(want, list):
            if have not in want:
                return False
        elif have != want:
            return False
    return True


def route_breach(doc: dict[str, Any], rules: tuple[RoutingRule, ...]) -> Route:
    """The agency, team inbox and officer inbox responsible for a breach of this order: the first rule that
    matches. A rule whose template names a fact the order lacks still routes (the part is left empty)."""
    facts = order_facts(doc)
    for rule in rules:
        if _matches(rule.match, facts):
            fill = {k: (v if isinstance(v, str) else str(v)) for k, v in facts.items()}
            agency = rule.agency.format_map(_Missing(fill))
            if agency not in AGENCIES:
                agency = "monitoring_centre"
            return Route(agency, rule.team.format_map(_Missing(fill)), rule.officer.format_map(_Missing(fill)),
                         rule.urgency, rule.rule_id, rule.version)  # fmt: skip
    raise AssertionError("unreachable: the last rule is a catch-all")


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


# -- violation periods and today's contract ------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive: 07:00 the next day (the period is 07:00-06:59)
    notification_due: datetime  # today's contract: 10:00 on the day the period ends (3 h after)
    pack_due: datetime  # today's contract: 12:00 the day after the period ends


def violation_period(at: datetime) -> Period:
    start = violation_period_start(at)
    end_day = local_date(start) + timedelta(days=1)
    end = local_to_utc(end_day, time(7, 0))
    return Period(start, end, local_to_utc(end_day, time(10, 0)),
                  local_to_utc(end_day + timedelta(days=1), time(12, 0)))  # fmt: skip


def template_for(cohort: str) -> str:
    return "bail" if cohort in BAIL_COHORTS else "non_bail"


def suggestion(agency: str, kinds: list[str], previous: int, specials: bool) -> str:
    """What policy suggests the responsible official consider (a prompt, never a decision)."""
    serious = any(k.startswith(("proximity", "strap", "case_tamper", "exclusion")) for k in kinds)
    if agency == "police":
        return ("Consider arrest for breach of bail at once" if serious or specials or previous
                else "Consider arrest or a warning for breach of bail; the court decides on bail")  # fmt: skip
    if agency == "home_office":
        return "Review bail conditions and casework priority" + ("; consider detention" if serious else "")
    if agency == "youth_justice":
        return "Engage with the young person and their responsible adult" + (
            "; consider return to court" if serious or previous >= 2 else ""
        )
    if agency == "probation":
        if specials or serious:
            return "Consider recall or breach action at once"
        if previous >= 2:
            return "Repeated breaches: consider a formal warning, adjusting conditions or recall"
        if previous == 1:
            return "Second breach: consider a formal warning"
        return "First breach: engage with the person on probation"
    return "Monitoring centre: find the responsible agency"


# -- reminders --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderPolicy:
    remind_after: timedelta
    escalate_after: timedelta
    version: int


def load_reminders(text: str | None = None) -> dict[str, Any]:
    raw: dict[str, Any] = json.loads(
        text if text is not None else resources.files(__package__).joinpath("reminders.json").read_text()
    )
    for block in [raw["default"], raw.get("immediate", raw["default"]), *raw.get("by_agency", {}).values()]:
        r, e = float(block["remind_after_hours"]), float(block["escalate_after_hours"])
        if not (0 < r < e):
            raise ValueError("reminder thresholds must be positive and remind before escalating")
    return raw


def reminder_policy(data: dict[str, Any], agency: str, urgency: str) -> ReminderPolicy:
    block = data["immediate"] if urgency == "immediate" and "immediate" in data else data.get("by_agency", {}).get(
        agency, data["default"])  # fmt: skip
    return ReminderPolicy(timedelta(hours=float(block["remind_after_hours"])),
                          timedelta(hours=float(block["escalate_after_hours"])), int(data.get("version", 1)))  # fmt: skip


def reminders_due(policy: ReminderPolicy, delivered_at: datetime | None, outcome_at: datetime | None,
                  sent: list[str], now: datetime) -> list[str]:  # fmt: skip
    """Which of "remind" and "escalate" are due now and not yet sent (none once an outcome is recorded)."""
    if delivered_at is None or outcome_at is not None:
        return []
    due = []
    if now >= delivered_at + policy.remind_after and "remind" not in sent:
        due.append("remind")
    if now >= delivered_at + policy.escalate_after and "escalate" not in sent:
        due.append("escalate")
    return due


# -- clocks -----------------------------------------------------------------------------------------------

STAGES = ("violation_start", "detected", "incident", "confirmed", "pack", "delivered", "acknowledged",
          "decision", "outcome")  # fmt: skip
#: openem's own targets, measured from confirmation (the issue's targets)
OWN_TARGETS = {"pack": timedelta(seconds=2), "delivered": timedelta(minutes=2)}


def clocks(stamps: dict[str, datetime | None], period: Period) -> list[dict[str, Any]]:
    """Each stage with when it happened, the time since the violation started and since the stage before, and
    today's contract deadline and openem's target where there is one, with whether each was met."""
    start = stamps.get("violation_start")
    confirmed = stamps.get("confirmed")
    out: list[dict[str, Any]] = []
    prev: datetime | None = None
    contract = {"delivered": period.pack_due, "pack": period.pack_due, "confirmed": period.notification_due}
    for stage in STAGES:
        at = stamps.get(stage)
        row: dict[str, Any] = {"stage": stage, "at": at,
                               "since_violation_s": (at - start).total_seconds() if at and start else None,
                               "since_previous_s": (at - prev).total_seconds() if at and prev else None}  # fmt: skip
        if stage in contract:
            row["contract_due"] = contract[stage]
            row["contract_met"] = None if at is None else at <= contract[stage]
        if stage in OWN_TARGETS and confirmed is not None:
            row["target_due"] = confirmed + OWN_TARGETS[stage]
            row["target_met"] = None if at is None else at <= confirmed + OWN_TARGETS[stage]
        out.append(row)
        prev = at or prev
    return out
