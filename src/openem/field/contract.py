"""The field contract as data (`data/contract.json`): which rule an order falls under (adult, youth, special),
its deadline in Europe/London, install at source, and the measures that set success ("fitted within the
standard attempts") beside the contract's attempt count ("standard attempts made by the deadline") and the
backlog of visits older than three days. Pure: plain data in, plain data out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from openem.core.time import local_date, local_to_utc, parse_instant

CONTRACT_FILE = Path(__file__).with_name("data") / "contract.json"


@lru_cache(maxsize=4)
def load_contract(path: str = str(CONTRACT_FILE)) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    for key, rule in data["rules"].items():
        if int(rule["standard_attempts"]) < 1:
            raise ValueError(f"contract rule {key}: standard_attempts must be at least 1")
    return data


def _sub(d: Any, key: str) -> dict[str, Any]:
    v = d.get(key) if isinstance(d, dict) else None
    return v if isinstance(v, dict) else {}


def _age_on(born: Any, on: date) -> int | None:
    try:
        b = date.fromisoformat(str(born))
    except ValueError:
        return None
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))


def rule_of(order: dict[str, Any], received_at: datetime) -> str:
    """SPECIAL for specials (cohort, the risk flag), YOUTH for a youth (flag, youth justice service, or under
    18 on the day received), else ADULT."""
    mon, risk = _sub(order, "monitoring"), _sub(order, "offence_risk")
    if mon.get("cohort") == "SPECIALS" or risk.get("specials") is True:
        return "SPECIAL"
    born = _sub(order, "device_wearer").get("date_of_birth")
    age = _age_on(born, local_date(received_at)) if born else None
    if mon.get("is_youth") is True or _sub(order, "interested_parties").get("youth_justice_region"):
        return "YOUTH"
    if age is not None and 0 <= age < 18:
        return "YOUTH"
    return "ADULT"


def _wall(text: str) -> tuple[int, time]:
    """'24:00' -> (1 day, 00:00); '07:30' -> (0, 07:30)."""
    if text == "24:00":
        return 1, time(0, 0)
    return 0, time.fromisoformat(text)


def deadline(rule: str, received_at: datetime, contract: dict[str, Any] | None = None) -> datetime:
    """The instant (UTC) by which the rule's standard attempts must be made, decided in Europe/London."""
    c = contract or load_contract()
    d = c["rules"][rule]["deadline"]
    extra, at = _wall(str(d.get("local_time", "24:00")))
    day = local_date(received_at) + timedelta(days=int(d.get("days_after_received", 1)) + extra)
    return local_to_utc(day, at)


@dataclass(frozen=True)
class InstallPlace:
    location: str  # HOME, PRISON, COURT, PROBATION_OFFICE
    appointment: datetime | None
    due_by: datetime | None  # set when the place has its own deadline (the gate on release day)
    priority: int


def install_place(order: dict[str, Any], contract: dict[str, Any] | None = None) -> InstallPlace:
    """Where the tag is fitted. At a prison it is fitted before release: an appointment on the release day
    before the gate, due by the contract's gate time; at court or a probation office at the order's appointment."""
    c = contract or load_contract()
    inst = _sub(order, "installation")
    loc = str(inst.get("location") or "HOME")
    source = c["at_source"].get(loc)
    if source is None:
        return InstallPlace("HOME", _instant(inst.get("appointment")), None, 0)
    appointment = _instant(inst.get("appointment"))
    due = None
    release = _sub(_sub(order, "conditions"), "curfew").get("release_date")
    if loc == "PRISON" and release:
        try:
            day = date.fromisoformat(str(release))
        except ValueError:
            day = None
        if day is not None:
            appointment = appointment or local_to_utc(
                day, time.fromisoformat(source["appointment_local_time"])
            )
            due = local_to_utc(day, time.fromisoformat(source["due_local_time"]))
    return InstallPlace(loc, appointment, due, int(source.get("priority", 0)))


def _instant(v: Any) -> datetime | None:
    if not v:
        return None
    try:
        return parse_instant(str(v))
    except ValueError:
        return None


@dataclass(frozen=True)
class FitVisit:
    """What the measures need of one fitting visit."""

    rule: str
    received_at: datetime
    attempts: list[tuple[datetime, str]]  # (when, outcome) in order
    due_by: datetime | None = None


@dataclass
class ContractMeasure:
    fittings: int = 0
    fitted_within_standard: int = 0  # success: fitted within the standard attempts ("within two visits")
    attempts_made_by_deadline: int = 0  # the contract: standard attempts made (or fitted) by the deadline
    fitted_at_all: int = 0
    by_rule: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def success_rate(self) -> float:
        return self.fitted_within_standard / self.fittings if self.fittings else 0.0

    @property
    def attempt_rate(self) -> float:
        return self.attempts_made_by_deadline / self.fittings if self.fittings else 0.0


def contract_measure(visits: Iterable[FitVisit], contract: dict[str, Any] | None = None) -> ContractMeasure:
    c = contract or load_contract()
    m = ContractMeasure()
    for v in visits:
        rule = c["rules"].get(v.rule) or c["rules"]["ADULT"]
        n = int(rule["standard_attempts"])
        due = v.due_by or deadline(v.rule if v.rule in c["rules"] else "ADULT", v.received_at, c)
        first = v.attempts[:n]
        fitted_in = any(o == "FITTED" for _, o in first)
        by_deadline = [o for at, o in v.attempts if at <= due][:n]
        met = len(by_deadline) >= n or "FITTED" in by_deadline
        ever = any(o == "FITTED" for _, o in v.attempts)
        row = m.by_rule.setdefault(v.rule, {"fittings": 0, "fitted_within_standard": 0, "attempts_met": 0})
        m.fittings += 1
        row["fittings"] += 1
        m.fitted_within_standard += fitted_in
        row["fitted_within_standard"] += fitted_in
        m.attempts_made_by_deadline += met
        row["attempts_met"] += met
        m.fitted_at_all += ever
    return m


@dataclass(frozen=True)
class Backlog:
    outstanding: int
    older_than_limit: int
    limit_days: int
    tolerance: int
    by_kind: dict[str, int]


def backlog(open_visits: Iterable[tuple[str, datetime]], now: datetime,
            contract: dict[str, Any] | None = None) -> Backlog:  # fmt: skip
    """Open visits (kind, created at): how many are older than the backlog limit (three days)."""
    c = contract or load_contract()
    days = int(c["backlog_days"])
    limit = now - timedelta(days=days)
    n = old = 0
    kinds: dict[str, int] = {}
    for kind, created in open_visits:
        n += 1
        if created < limit:
            old += 1
            kinds[kind] = kinds.get(kind, 0) + 1
    return Backlog(n, old, days, int(c["backlog_tolerance"]), kinds)


def needs_of(order: dict[str, Any], data: dict[str, Any] | None = None) -> tuple[str, int]:
    """What the order's visits need of their officers: ("ALCOHOL", _) when it has an alcohol condition (only an
    alcohol-trained officer fits or checks an alcohol tag), (_, 2) for a high-risk address (MAPPA level or risk
    category listed under `two_officers` in the contract data), else ("", 1)."""
    rules = data or load_contract()
    skill = ""
    if _sub(_sub(order, "conditions"), "alcohol"):
        skill = str(rules.get("alcohol_skill", {}).get("skill", "ALCOHOL"))
    two = rules.get("two_officers", {})
    risk = _sub(order, "offence_risk")
    cats = risk.get("risk_categories")
    high = risk.get("mappa_level") in two.get("mappa_levels", []) or (
        isinstance(cats, list) and any(c in two.get("risk_categories", []) for c in cats)
    )
    return skill, 2 if high else 1
