"""Triage: alerts and episodes grouped into incidents, noise rules as versioned data, priority scoring.

Pure and deterministic (no database, no clock): the same alerts/episodes in the same order give the same
incidents, decisions and escalations. Used by `openem triage replay` and (next) by the bus handlers.

Grouping key = wearer + order + situation ("curfew night 2026-12-01", "zone visit Z1", "tamper",
"device fault", ...). Clocks as Prometheus Alertmanager: group wait (first notification), group interval
(additions), repeat interval. Every automatic decision is kept with its rule id and version; nothing is deleted.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
ACTIONS = ("suppress", "suspend_until_resolved", "inhibit", "hold", "escalate", "confirm")
#: actions that keep an incident from a person (`confirm` sends it straight to the responsible official)
QUIETING = ("suppress", "suspend_until_resolved", "inhibit", "hold")
MODES = ("active", "monitor")
SEVERITY_POINTS = {"HIGH": 50, "MEDIUM": 25, "LOW": 10}
DEVICE_FAULT_KINDS = frozenset(
    {"low_battery", "not_charging", "no_comms", "gps_lost_moving", "hmu_power_loss", "unmonitored_silent",
     "unmonitored_no_device", "checkin_failed"}
)  # fmt: skip
#: faults that can make a zone/curfew alert false (the positions or the home unit went silent)
EXPLAINING_FAULTS = frozenset({"no_comms", "hmu_power_loss", "gps_lost_moving"})
TAMPER_KINDS = frozenset({"strap_tamper", "case_tamper", "alcohol_skin_tamper", "hmu_moved"})
#: tamper kinds that must reach a person at once (a moved home unit is a lesser, device-side matter)
ESCALATING_TAMPER = TAMPER_KINDS - {"hmu_moved"}
#: the "not home" episode at start + grace announces the late return or absence that follows it on the same
#: curfew night; once that outcome is in the incident it is the measure, and the announcement is not matched
#: against the rules on its own (decision 0024: else no late return could ever be confirmed or auto-closed)
ANNOUNCED_BY = {"curfew_not_home": frozenset({"curfew_late_return", "curfew_absent", "curfew_absence"})}


def is_protected(kinds: list[str] | set[str], flags: frozenset[str]) -> bool:
    """Proximity, tamper and specials always reach a person, whatever the rules and silences say."""
    return "special" in flags or any(condition_of(k) == "proximity" or k in ESCALATING_TAMPER for k in kinds)


@dataclass(frozen=True)
class Clocks:
    group_wait: timedelta = timedelta(seconds=30)
    group_interval: timedelta = timedelta(minutes=5)
    repeat_interval: timedelta = timedelta(hours=4)


@dataclass(frozen=True)
class Rule:
    """A noise rule. `match` keys: kinds [str], conditions [str], confidence str, severity [str],
    max_measure {name: number} (all measures at or below), min_measure {name: number} (all at or above),
    closed_reasons [str], person_flags [str] (any)."""

    rule_id: str
    version: int
    match: dict[str, Any]
    action: str
    window_minutes: int = 0
    mode: str = "active"
    description: str = ""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise ValueError(f"rule {self.rule_id}: unknown action {self.action!r}")
        if self.mode not in MODES:
            raise ValueError(f"rule {self.rule_id}: unknown mode {self.mode!r}")


@dataclass(frozen=True)
class Silence:
    """A time-boxed silence: matching incidents are suppressed between starts and ends."""

    silence_id: str
    match: dict[str, Any]  # person_id, order_ref, kinds
    starts: datetime
    ends: datetime
    author: str
    reason: str


DEFAULT_RULES: tuple[Rule, ...] = (
    Rule(
        "escalate-proximity", 1, {"kinds": ["proximity"]}, "escalate", description="victim proximity at once"
    ),
    Rule(
        "escalate-tamper",
        1,
        {"kinds": sorted(TAMPER_KINDS - {"hmu_moved"})},
        "escalate",
        description="tamper at once",
    ),  # fmt: skip
    Rule("escalate-specials", 1, {"person_flags": ["special"]}, "escalate", description="specials at once"),
    Rule(
        "hold-possible",
        1,
        {"confidence": "possible"},
        "hold",
        window_minutes=30,
        description="possible entries/exits wait for more evidence",
    ),  # fmt: skip
    Rule(
        "inhibit-by-device-fault",
        1,
        {"conditions": ["curfew", "exclusion", "inclusion"]},
        "inhibit",
        window_minutes=60,
        description="a device fault explains zone/curfew incidents of the same wearer",
    ),  # fmt: skip
    Rule(
        "suspend-not-home",
        1,
        {"kinds": ["curfew_not_home"]},
        "suspend_until_resolved",
        window_minutes=60,
        description="not home at the grace: wait for the return (a late return within policy auto-closes, a "
        "longer one is judged as a late return); still away after an hour, it reaches a person",
    ),  # fmt: skip
    Rule(
        "suspend-late-return",
        2,
        {
            "kinds": ["curfew_late_return", "curfew_early_leave", "curfew_absence"],
            "max_measure": {"minutes_beyond_grace": 5, "minutes_absent": 5},
        },
        "suspend_until_resolved",
        window_minutes=5,
        mode="monitor",
        description="a short late return/absence that comes back within policy would auto-close (v2: a late "
        "return within 5 minutes beyond the grace; v1 named minutes late, and no late return is raised inside "
        "the grace, so v1 never acted). In monitor mode: the grace is the policy, and every minute beyond it is a "
        "breach in the simulator's truth; active, it held back 15 of 281 true late returns on valid orders",
    ),  # fmt: skip
    Rule(
        "suppress-device-health-low",
        2,
        {"kinds": ["gps_lost_moving"]},
        "suppress",
        description="low device-health signals are counted, not shown to a person (v2: a battery running low "
        "is the wearer's to charge, and goes to an operator to call them)",
    ),  # fmt: skip
    Rule(
        "route-device-fault",
        2,
        {"kinds": sorted(DEVICE_FAULT_KINDS - {"low_battery", "not_charging"})},
        "suppress",
        description="device faults go to the field-service work list, not a monitoring-centre operator (v2: "
        "not a battery the wearer is failing to charge)",
    ),  # fmt: skip
    Rule("suppress-alcohol-contaminant", 1, {"kinds": ["alcohol_contaminant"]}, "suppress"),
    # clear-cut breaches go straight to the responsible official as a breach (decision 0024)
    Rule(
        "confirm-late-return",
        1,
        {"kinds": ["curfew_late_return"], "min_measure": {"minutes": 10}, "confidence": "confirmed"},
        "confirm",
        description="a late return of 10 minutes or more, measured by the home unit, is a breach by policy",
    ),  # fmt: skip
    Rule(
        "confirm-alcohol-drinking",
        1,
        {"kinds": ["alcohol_drinking"], "confidence": "confirmed"},
        "confirm",
        description="a confirmed drinking episode on the alcohol tag is a breach by policy",
    ),  # fmt: skip
)


def condition_of(kind: str) -> str:
    if kind.startswith("curfew"):
        return "curfew"
    if kind.startswith("exclusion"):
        return "exclusion"
    if kind.startswith("inclusion"):
        return "inclusion"
    if kind.startswith("proximity"):
        return "proximity"
    if kind in TAMPER_KINDS:
        return "tamper"
    if kind in DEVICE_FAULT_KINDS:
        return "device_fault"
    return kind.split("_")[0]


def situation_of(ep: dict[str, Any]) -> str:
    """The situation part of the grouping key."""
    kind, cond = str(ep["kind"]), condition_of(str(ep["kind"]))
    start = ep["_start"]
    if cond == "curfew":  # a curfew night runs noon to noon London time, named by the evening's date
        local = start.astimezone(LONDON) - timedelta(hours=12)
        return f"curfew night {local.date().isoformat()}"
    if cond in ("exclusion", "inclusion"):
        return f"zone visit {ep.get('condition_id') or kind}"
    if cond == "tamper":
        return "tamper"
    if cond == "device_fault":
        return "device fault"
    if cond == "proximity":
        return "victim proximity"
    return f"{cond} {start.astimezone(LONDON).date().isoformat()}"


def parse_iso(value: Any) -> datetime | None:
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC)
    text = str(value).replace("Z", "+00:00")
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


def iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rule_matches(rule: Rule, ep: dict[str, Any], flags: frozenset[str]) -> bool:
    m = rule.match
    kind = str(ep["kind"])
    if "kinds" in m and kind not in m["kinds"]:
        return False
    if "conditions" in m and condition_of(kind) not in m["conditions"]:
        return False
    if "confidence" in m and str(ep.get("confidence") or "confirmed") != m["confidence"]:
        return False
    if "severity" in m and str(ep.get("severity")) not in m["severity"]:
        return False
    if "person_flags" in m and not flags.intersection(m["person_flags"]):
        return False
    if "closed_reasons" in m and ep.get("closed_reason") not in m["closed_reasons"]:
        return False
    if "max_measure" in m:
        measure = measure_of(ep)
        present = [k for k in m["max_measure"] if k in measure]
        if not present or any(float(measure[k]) > float(m["max_measure"][k]) for k in present):
            return False
    if "min_measure" in m:
        measure = measure_of(ep)
        if any(k not in measure or float(measure[k]) < float(v) for k, v in m["min_measure"].items()):
            return False
    return True


def measure_of(ep: dict[str, Any]) -> dict[str, float]:
    """An episode's measures over its numeric details; for AlertRaised alone (no measure) its duration in
    minutes as `minutes_late` / `minutes_absent` too."""
    details: dict[str, Any] = ep["details"] if isinstance(ep.get("details"), dict) else {}
    measure = {k: v for k, v in details.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    # an episode's measure (e.g. minutes_late) beside its alert's numbers (e.g. minutes): the rules name either
    measure.update(ep.get("measure") or {})
    if not ep.get("measure"):
        if ep.get("_end") is not None:
            minutes = (ep["_end"] - ep["_start"]).total_seconds() / 60
            measure.setdefault("minutes_late", minutes)
            if ep.get("kind") != "curfew_late_return":  # a late return is measured in lateness, not absence
                measure.setdefault("minutes_absent", minutes)
        if "minutes" in measure and "grace_minutes" in measure:  # the curfew alert says its grace
            measure.setdefault(
                "minutes_beyond_grace", max(measure["minutes"] - measure["grace_minutes"], 0.0)
            )
    return measure


def minutes_open(ep: dict[str, Any]) -> float:
    """How long an open episode has run, as far as its records say: its measured minutes away, else from its
    start to its latest update (or detection)."""
    measure = ep.get("measure") or {}
    if isinstance(measure.get("minutes_away"), int | float):
        return float(measure["minutes_away"])
    seen = parse_iso(ep.get("updated_at") or ep.get("detected_at"))
    return 0.0 if seen is None else max((seen - ep["_start"]).total_seconds() / 60, 0.0)


@dataclass
class Incident:
    incident_id: str
    person_id: str
    order_ref: str
    situation: str
    opened_at: datetime
    kinds: list[str] = field(default_factory=list)
    episode_ids: list[str] = field(default_factory=list)
    severity: str = "LOW"
    closed_at: datetime | None = None
    state: str = "open"  # open | suppressed | held | inhibited | auto_closed | escalated | resolved
    needs_person: bool = False
    priority: int = 0
    decisions: list[dict[str, Any]] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)
    last_end: datetime | None = None
    episodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    escalated: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.incident_id, "person_id": self.person_id, "order_ref": self.order_ref,
            "situation": self.situation, "opened_at": iso(self.opened_at), "closed_at": iso(self.closed_at),
            "priority": self.priority, "severity": self.severity, "state": self.state,
            "needs_person": self.needs_person, "kinds": sorted(set(self.kinds)),
            "decisions": self.decisions, "episode_ids": self.episode_ids, "notifications": self.notifications,
        }  # fmt: skip


def _rank(sev: str) -> int:
    return {"LOW": 0, "MEDIUM": 1, "HIGH": 2}.get(sev, 0)


class Triage:
    """Consumes alerts/episodes (dicts per the contracts) in order; keeps incidents and escalations."""

    def __init__(
        self,
        rules: tuple[Rule, ...] = DEFAULT_RULES,
        silences: tuple[Silence, ...] = (),
        person_flags: dict[str, frozenset[str]] | None = None,
        clocks: Clocks = Clocks(),
    ) -> None:
        self.rules, self.silences, self.clocks = rules, silences, clocks
        self.person_flags = person_flags or {}
        self.incidents: dict[str, Incident] = {}
        self.escalations: list[dict[str, Any]] = []
        self.monitor_counts: dict[str, int] = {}
        self._revisions: dict[str, int] = {}
        self._latest: dict[str, str] = {}  # grouping key -> key of its latest incident
        self._needing: dict[str, set[str]] = {}  # person -> incidents needing a person (history score)
        #: incidents needing a person that the caller knows of but did not load (incremental triage)
        self.history_offset: dict[str, int] = {}
        self._faults: dict[
            str, list[tuple[datetime, datetime | None, str, str]]
        ] = {}  # person -> fault spans
        self.rejected: list[dict[str, Any]] = []

    # -- intake ----------------------------------------------------------------------------------
    def on_alert(self, alert: dict[str, Any]) -> None:
        """`monitoring.AlertRaised` payload (works alone: each alert is a closed-or-open episode)."""
        ep = dict(alert)
        ep.setdefault("episode_id", alert.get("alert_id") or alert.get("id"))
        ep.setdefault("revision", 0)
        ep.setdefault("state", "closed" if alert.get("end") else "open")
        self.on_episode(ep)

    def on_episode(self, ep_in: dict[str, Any]) -> None:
        """`monitoring.Episode{Opened,Updated,Closed}` payload's `episode`; the highest revision wins."""
        try:
            ep = dict(ep_in)
            eid = str(ep.get("episode_id") or ep.get("alert_id") or ep["id"])
            rev = int(ep.get("revision") or 0)
            ep["_start"] = parse_iso(ep["start"])
            ep["_end"] = parse_iso(ep.get("end"))
            if ep["_start"] is None:
                raise ValueError("no start")
        except (KeyError, ValueError, TypeError) as exc:
            self.rejected.append(
                {"reason": f"{type(exc).__name__}: {exc}", "payload_keys": sorted(ep_in)[:20]}
            )
            return
        if eid in self._revisions and self._revisions[eid] >= rev:
            return  # duplicate or older revision: idempotent
        self._revisions[eid] = rev
        person, order = str(ep.get("person_id") or ""), str(ep.get("order_ref") or "")
        situation = situation_of(ep)
        key = f"{person}|{order}|{situation}"
        inc = self.incidents.get(self._latest.get(key, key))
        if inc is None or (inc.closed_at and ep["_start"] > inc.closed_at + self.clocks.repeat_interval):
            key_id = key if inc is None else f"{key}|{ep['_start'].isoformat()}"
            inc = self.restore(
                "INC-" + hashlib.sha256(key_id.encode()).hexdigest()[:12].upper(), person, order, situation,
                ep["_start"], key_id,
            )  # fmt: skip
        if eid not in inc.episodes:
            inc.episode_ids.append(eid)
            inc.kinds.append(str(ep["kind"]))
        inc.episodes[eid] = ep
        if _rank(str(ep.get("severity") or "LOW")) > _rank(inc.severity):
            inc.severity = str(ep.get("severity"))
        if condition_of(str(ep["kind"])) == "device_fault":
            self._faults.setdefault(person, []).append((ep["_start"], ep["_end"], eid, str(ep["kind"])))
        self._decide(inc)

    def restore(self, incident_id: str, person: str, order: str, situation: str, opened_at: datetime,
                key_id: str | None = None) -> Incident:  # fmt: skip
        """Start (or, for incremental triage, re-create under its stored id) the latest incident of its
        grouping key; its episodes are then given to `on_episode` in order."""
        key = f"{person}|{order}|{situation}"
        key_id = key_id or f"{key}|{incident_id}"
        inc = Incident(incident_id=incident_id, person_id=person, order_ref=order, situation=situation,
                       opened_at=opened_at)  # fmt: skip
        self.incidents[key_id] = inc
        self._latest[key] = key_id
        return inc

    def redecide(self, person: str) -> None:
        """Decide a wearer's incidents again (after a device fault arrived that may explain them)."""
        for inc in list(self.incidents.values()):
            if inc.person_id == person and inc.episodes and inc.situation != "device fault":
                self._decide(inc)

    # -- decisions -------------------------------------------------------------------------------
    def _record(self, inc: Incident, rule: str, version: int, action: str, mode: str, at: datetime) -> None:
        d = {"rule": rule, "version": version, "action": action, "mode": mode, "at": iso(at)}
        if d not in inc.decisions:
            inc.decisions.append(d)

    def _explained_by_fault(self, person: str, ep: dict[str, Any], window: timedelta) -> str | None:
        """A fault that explains the episode: it began before it (within the window) and was still on when the
        episode ended; an open-ended fault (no end yet) or one without a signal-loss kind explains nothing."""
        ep_end = ep["_end"] or ep["_start"]
        for start, end, eid, kind in self._faults.get(person, []):
            if (
                kind in EXPLAINING_FAULTS
                and end is not None
                and start - window <= ep["_start"]
                and ep_end <= end
            ):
                return eid
        return None

    def _decide(self, inc: Incident) -> None:
        flags = self.person_flags.get(inc.person_id, frozenset())
        present = {str(e["kind"]) for e in inc.episodes.values()}
        eps = [
            e
            for e in inc.episodes.values()
            if not ANNOUNCED_BY.get(str(e["kind"]), frozenset()).intersection(present)
        ]
        latest = max(eps, key=lambda e: e["_start"])
        at = latest["_start"]
        all_closed = all(e.get("state") == "closed" or e["_end"] is not None for e in eps)
        end = max((e["_end"] for e in eps if e["_end"] is not None), default=None)
        outcome: str | None = None
        for s in self.silences:
            if s.starts <= at < s.ends and all(
                (k == "kinds" and str(latest["kind"]) in v) or (k != "kinds" and str(latest.get(k)) == str(v))
                for k, v in s.match.items()
            ):
                self._record(inc, f"silence:{s.silence_id}", 1, "suppress", "active", at)
                outcome = outcome or "suppressed"
        for rule in self.rules:
            matched = [e for e in eps if rule_matches(rule, e, flags)]
            if not matched:
                continue
            if rule.action == "inhibit":
                window = timedelta(minutes=rule.window_minutes)
                if inc.situation == "device fault" or not all(
                    self._explained_by_fault(inc.person_id, e, window) for e in eps
                ):
                    continue
            if rule.action == "hold" and len(matched) < len(eps):
                continue  # a confirmed episode in the group: no longer only possible
            if rule.action in ("suppress", "suspend_until_resolved", "confirm") and len(matched) < len(eps):
                continue  # the rule explains only part of the incident
            if rule.action == "suspend_until_resolved" and not all_closed:
                if rule.window_minutes and any(
                    e["_end"] is None and minutes_open(e) > rule.window_minutes for e in matched
                ):
                    continue  # unresolved for longer than the rule waits: a person looks now
                if rule.mode == "active":
                    self._record(inc, rule.rule_id, rule.version, "suspend", rule.mode, at)
                    outcome = outcome or "suspended"
                continue
            if rule.mode == "monitor":
                self._record(inc, rule.rule_id, rule.version, rule.action, "monitor", at)
                self.monitor_counts[rule.rule_id] = self.monitor_counts.get(rule.rule_id, 0) + 1
                continue
            self._record(inc, rule.rule_id, rule.version, rule.action, rule.mode, at)
            if rule.action == "escalate":
                outcome = "escalate"
                break
            if rule.action == "confirm":
                outcome = "confirm" if outcome in (None, "confirm") else outcome
                continue
            outcome = outcome or {"suppress": "suppressed", "inhibit": "inhibited", "hold": "held",
                                  "suspend_until_resolved": "auto_closed"}[rule.action]  # fmt: skip
        if outcome != "escalate" and is_protected(inc.kinds, flags):
            # no rule set, silence or retired rule can keep these from a person
            self._record(inc, "invariant:protected", 1, "escalate", "active", at)
            outcome = "escalate"
        if outcome == "confirm" and not inc.escalated:
            # a clear-cut breach: straight to the responsible official as a breach, no operator review first
            inc.state, inc.needs_person, inc.escalated = "confirmed", False, True
            last = next(d for d in reversed(inc.decisions) if d["action"] == "confirm")
            self.escalations.append(self._escalation(inc, f"policy:{last['rule']}@v{last['version']}", at))
        elif outcome == "escalate":
            inc.state, inc.needs_person = "escalated", True
            if not inc.escalated:
                inc.escalated = True
                last = inc.decisions[-1]
                self.escalations.append(
                    self._escalation(inc, f"policy:{last['rule']}@v{last['version']}", at)
                )
        elif outcome in ("suppressed", "inhibited", "held", "auto_closed", "suspended"):
            if not inc.escalated:
                inc.state, inc.needs_person = outcome, False
        elif inc.state == "confirmed":
            pass  # already with an official; later episodes join the breach, not the queue
        else:
            inc.state, inc.needs_person = ("escalated" if inc.escalated else "open"), True
        if inc.state == "auto_closed" or (all_closed and not inc.needs_person):
            inc.closed_at = end
        inc.priority = self.score(inc, flags)
        needing = self._needing.setdefault(inc.person_id, set())
        (needing.add if inc.needs_person else needing.discard)(inc.incident_id)
        if inc.needs_person:
            self._notify(inc, at)

    def _notify(self, inc: Incident, at: datetime) -> None:
        """Alertmanager clocks: first after group_wait; additions no sooner than group_interval; repeats."""
        c = self.clocks
        if not inc.notifications:
            inc.notifications.append(iso(max(at, inc.opened_at + c.group_wait)) or "")
            return
        last = parse_iso(inc.notifications[-1])
        assert last is not None
        if at >= last + c.group_interval:
            inc.notifications.append(iso(at) or "")

    def score(self, inc: Incident, flags: frozenset[str]) -> int:
        """Priority (higher = more urgent): severity, the person's risk, duration, confidence, history."""
        points = SEVERITY_POINTS.get(inc.severity, 10)
        points += 40 if "special" in flags else 0
        points += 20 if "mappa" in flags else 0
        points += 15 if "domestic_abuse" in flags else 0
        points += 30 if any(condition_of(k) == "proximity" for k in inc.kinds) else 0
        points += (
            30 if any(k in ESCALATING_TAMPER for k in inc.kinds) else 0
        )  # escalated at once: top of the queue
        start = min(e["_start"] for e in inc.episodes.values())
        end = max((e["_end"] or e["_start"] for e in inc.episodes.values()), default=start)
        points += min(20, int((end - start).total_seconds() // 900))  # a point per quarter hour, at most 20
        if all(str(e.get("confidence") or "confirmed") == "possible" for e in inc.episodes.values()):
            points -= 15
        needing = self._needing.get(inc.person_id, set())
        history = len(needing) - (inc.incident_id in needing) + self.history_offset.get(inc.person_id, 0)
        points += min(15, 3 * history)
        return max(points, 0)

    def _escalation(self, inc: Incident, by: str, at: datetime) -> dict[str, Any]:
        """The `alerts.IncidentEscalated` payload's `incident` (contracts.md)."""
        return {
            "incident_id": inc.incident_id, "person_id": inc.person_id, "order_ref": inc.order_ref,
            "episode_ids": list(inc.episode_ids), "alert_ids": list(inc.episode_ids),
            "kinds": sorted(set(inc.kinds)), "priority": inc.priority, "severity": inc.severity,
            "opened_at": iso(inc.opened_at), "confirmed_at": iso(at), "confirmed_by": by,
            "reason": f"escalated at once by {by}", "situation": inc.situation,
        }  # fmt: skip

    def finish(self) -> list[Incident]:
        """Incidents in a stable order, with final priorities (escalation payloads carry the final score)."""
        for inc in self.incidents.values():
            inc.priority = self.score(inc, self.person_flags.get(inc.person_id, frozenset()))
        by_id = {i.incident_id: i for i in self.incidents.values()}
        for esc in self.escalations:
            esc["priority"] = by_id[esc["incident_id"]].priority
        return sorted(self.incidents.values(), key=lambda i: (i.opened_at, i.incident_id))


def person_flags_from_order(doc: dict[str, Any]) -> frozenset[str]:
    """Risk flags an order document carries: specials, MAPPA, domestic abuse, victim proximity."""
    risk = doc.get("offence_risk") or {}
    monitoring = doc.get("monitoring") or {}
    flags = set()
    if risk.get("specials") or monitoring.get("cohort") == "SPECIALS":
        flags.add("special")
    if risk.get("mappa_level"):
        flags.add("mappa")
    cats = " ".join(str(c) for c in (risk.get("risk_categories") or [])).upper()
    if "DOMESTIC" in cats or "DOMESTIC" in str(risk.get("offence_category") or "").upper():
        flags.add("domestic_abuse")
    if (doc.get("conditions") or {}).get("proximity") or (doc.get("conditions") or {}).get(
        "victim_proximity"
    ):
        flags.add("victim_proximity")
    return frozenset(flags)
