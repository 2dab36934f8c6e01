"""Triage: what an operator would notice — noise never reaches a person, real breaches do, with reasons."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from openem.alerts.triage import Rule, Silence, Triage


def alert(aid: str, kind: str, start: str, end: str | None = None, **kw: Any) -> dict[str, Any]:
    sev = {"proximity": "HIGH", "strap_tamper": "HIGH", "exclusion_entry": "HIGH"}.get(kind, "MEDIUM")
    base = {"alert_id": aid, "kind": kind, "severity": sev, "person_id": "P1", "order_ref": "EM-1",
            "condition_id": "Z1", "start": start, "end": end}  # fmt: skip
    base.update(kw)
    return base


def test_tamper_escalates_at_once_with_the_rule_and_version() -> None:
    t = Triage()
    t.on_alert(alert("a1", "strap_tamper", "2026-12-01T20:31:00Z"))
    [inc] = t.finish()
    assert inc.needs_person and inc.state == "escalated"
    [esc] = t.escalations
    assert esc["confirmed_by"] == "policy:escalate-tamper@v1" and esc["episode_ids"] == ["a1"]
    assert esc["situation"] == "tamper" and esc["priority"] == inc.priority


def test_a_late_return_beyond_the_grace_reaches_a_person_and_the_quieter_policy_is_only_counted() -> None:
    """8 minutes late with a 5-minute grace: a breach (the grace is the policy). `suspend-late-return@v2`
    (within 5 minutes beyond the grace) is in monitor mode: it says what it would have done, and counts it."""
    t = Triage()
    late = {"minutes_late": 8, "minutes_beyond_grace": 3}
    t.on_episode({**alert("e1", "curfew_late_return", "2026-12-01T19:00:00Z", "2026-12-01T19:08:00Z"),
                  "revision": 1, "state": "closed", "measure": late})  # fmt: skip
    [inc] = t.finish()
    assert inc.needs_person and len(inc.notifications) == 1
    assert {"rule": "suspend-late-return", "version": 2, "action": "suspend_until_resolved", "mode": "monitor",
            "at": "2026-12-01T19:00:00Z"} in inc.decisions  # fmt: skip
    assert t.monitor_counts == {"suspend-late-return": 1}


def test_the_late_return_policy_made_active_auto_closes_within_5_minutes_beyond_the_grace() -> None:
    from dataclasses import replace

    from openem.alerts.triage import DEFAULT_RULES

    rules = tuple(
        replace(r, mode="active") if r.rule_id == "suspend-late-return" else r for r in DEFAULT_RULES
    )
    t = Triage(rules=rules)
    t.on_alert(alert("a1", "curfew_late_return", "2026-12-01T19:00:00Z", "2026-12-01T19:08:00Z",
                     details={"minutes": 8.0, "grace_minutes": 5.0}))  # a bare alert says its grace  # fmt: skip
    t.on_alert(alert("a2", "curfew_late_return", "2026-12-02T19:00:00Z", "2026-12-02T19:12:00Z",
                     details={"minutes": 12.0, "grace_minutes": 5.0}))  # fmt: skip
    by = {i.situation: i for i in t.finish()}
    assert (
        by["curfew night 2026-12-01"].state == "auto_closed"
        and not by["curfew night 2026-12-01"].notifications
    )
    later = by["curfew night 2026-12-02"]  # 7 minutes beyond the grace: a breach, to the official by policy
    assert later.state == "confirmed" and [e["incident_id"] for e in t.escalations] == [later.incident_id]


def not_home(
    rev: int, minutes_away: float, end: str | None = None, reason: str | None = None
) -> dict[str, Any]:
    return {**alert("n1", "curfew_not_home", "2026-12-01T19:00:00Z", end), "revision": rev,
            "state": "closed" if end else "open", "closed_reason": reason,
            "measure": {"minutes_away": minutes_away}}  # fmt: skip


def test_not_home_waits_for_the_return_and_reaches_no_one_while_it_may_resolve() -> None:
    t = Triage()
    t.on_episode(not_home(0, 5))
    t.on_episode(not_home(1, 20))
    [inc] = t.finish()
    assert not inc.needs_person and inc.state == "suspended" and not inc.notifications
    assert inc.decisions[-1]["rule"] == "suspend-not-home"
    t.on_episode(not_home(2, 8, "2026-12-01T19:08:00Z", "not_confirmed"))  # home in time after all
    [inc] = t.finish()
    assert inc.state == "auto_closed" and not inc.notifications


def test_not_home_for_over_an_hour_reaches_a_person_once() -> None:
    t = Triage()
    for rev, minutes in enumerate((5, 20, 35, 50, 65, 80)):
        t.on_episode(not_home(rev, minutes))
    [inc] = t.finish()
    assert inc.needs_person and inc.state == "open" and len(inc.notifications) == 1


def test_long_late_return_needs_a_person() -> None:
    t = Triage()
    t.on_alert({**alert("a1", "curfew_late_return", "2026-12-01T19:05:00Z", "2026-12-01T21:00:00Z"),
                "measure": {"minutes_late": 115}})  # fmt: skip
    [inc] = t.finish()
    assert inc.needs_person


def test_device_fault_inhibits_the_curfew_incident_it_explains_same_wearer_only() -> None:
    t = Triage()
    t.on_alert(alert("f1", "no_comms", "2026-12-01T18:00:00Z", "2026-12-01T23:00:00Z"))
    t.on_alert(alert("c1", "curfew_absent", "2026-12-01T19:00:00Z", "2026-12-01T22:00:00Z"))
    t.on_alert(alert("c2", "curfew_absent", "2026-12-01T19:00:00Z", "2026-12-01T22:00:00Z", person_id="P2"))
    by_person = {(i.person_id, i.situation): i for i in t.finish()}
    mine = by_person[("P1", "curfew night 2026-12-01")]
    assert not mine.needs_person and mine.decisions[-1]["rule"] == "inhibit-by-device-fault"
    assert by_person[("P2", "curfew night 2026-12-01")].needs_person


def test_episodes_of_one_night_group_into_one_incident_and_duplicates_change_nothing() -> None:
    t = Triage()
    a = alert("c1", "curfew_absent", "2026-12-01T19:00:00Z", "2026-12-01T20:00:00Z")
    t.on_alert(a)
    t.on_alert(a)
    t.on_alert(alert("c2", "curfew_absent", "2026-12-02T01:00:00Z", "2026-12-02T02:00:00Z"))
    [inc] = t.finish()
    assert inc.episode_ids == ["c1", "c2"] and inc.situation == "curfew night 2026-12-01"


def test_possible_entry_is_held_until_confirmed() -> None:
    t = Triage()
    t.on_alert(alert("p1", "exclusion_possible", "2026-12-01T12:00:00Z", confidence="possible"))
    assert not t.finish()[0].needs_person
    t.on_alert(alert("p2", "exclusion_entry", "2026-12-01T12:05:00Z"))
    [inc] = t.finish()
    assert inc.needs_person and inc.decisions[0]["action"] == "hold"  # the earlier decision is kept


def test_monitor_mode_counts_without_acting() -> None:
    rules = (Rule("suppress-no-comms", 2, {"kinds": ["no_comms"]}, "suppress", mode="monitor"),)
    t = Triage(rules=rules)
    t.on_alert(alert("f1", "no_comms", "2026-12-01T18:00:00Z", "2026-12-01T19:00:00Z"))
    [inc] = t.finish()
    assert inc.needs_person and t.monitor_counts == {"suppress-no-comms": 1}
    assert inc.decisions[0] == {"rule": "suppress-no-comms", "version": 2, "action": "suppress",
                                "mode": "monitor", "at": "2026-12-01T18:00:00Z"}  # fmt: skip


def test_silence_suppresses_only_inside_its_time_box() -> None:
    s = Silence("S1", {"person_id": "P1"}, datetime(2026, 12, 1, 0, tzinfo=UTC), datetime(2026, 12, 1, 12, tzinfo=UTC),
                "op1", "hospital stay confirmed")  # fmt: skip
    t = Triage(silences=(s,))
    t.on_alert(
        alert("x1", "inclusion_exit", "2026-12-01T10:00:00Z", "2026-12-01T11:00:00Z", condition_id="Z1")
    )
    t.on_alert(
        alert("x2", "inclusion_exit", "2026-12-01T13:00:00Z", "2026-12-01T14:00:00Z", condition_id="Z2")
    )
    by = {i.situation: i for i in t.finish()}
    assert not by["zone visit Z1"].needs_person and by["zone visit Z1"].decisions[0]["rule"] == "silence:S1"
    assert by["zone visit Z2"].needs_person


def test_specials_and_proximity_outrank_ordinary_incidents() -> None:
    t = Triage(person_flags={"P9": frozenset({"special"})})
    t.on_alert(alert("o1", "inclusion_exit", "2026-12-01T10:00:00Z", "2026-12-01T10:30:00Z"))
    t.on_alert(alert("s1", "inclusion_exit", "2026-12-01T10:00:00Z", "2026-12-01T10:30:00Z", person_id="P9"))
    t.on_alert(alert("v1", "proximity", "2026-12-01T10:00:00Z", person_id="P3"))
    ranked = sorted(t.finish(), key=lambda i: -i.priority)
    assert [i.person_id for i in ranked][-1] == "P1"
    assert {e["person_id"] for e in t.escalations} == {"P9", "P3"}


def test_bad_records_are_rejected_and_the_rest_processed() -> None:
    t = Triage()
    t.on_alert({"alert_id": "bad", "kind": "curfew_absent", "start": "not a time"})
    t.on_alert({"kind": "curfew_absent"})
    t.on_alert(alert("ok", "curfew_absent", "2026-12-01T19:00:00Z"))
    assert len(t.rejected) == 2 and len(t.finish()) == 1


def test_unknown_action_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown action"):
        Rule("r", 1, {}, "delete")


def test_risk_flags_come_from_what_the_order_carries() -> None:
    from openem.alerts.triage import person_flags_from_order

    doc = {"offence_risk": {"specials": True, "mappa_level": 2, "risk_categories": ["DOMESTIC_ABUSE"]},
           "monitoring": {"cohort": "SPECIALS"}}  # fmt: skip
    assert person_flags_from_order(doc) == {"special", "mappa", "domestic_abuse"}
    assert person_flags_from_order({"offence_risk": {"mappa_level": None}}) == frozenset()


def test_alert_details_read_in_words_not_engine_internals() -> None:
    from openem.alerts.web.reads import plain_details

    shown = dict(plain_details({"window_start": 1796157060, "atv_minutes_total": 42, "limit_s": 600,
                                "partition_key": "x", "late": True}))  # fmt: skip
    assert shown["Window start"] == "1 December 2026 at 8:31pm"
    assert shown["Minutes outside curfew, in total"] == "42" and shown["Limit"] == "10 minutes"
    assert shown["Late"] == "Yes" and not any("partition" in k.lower() for k in shown)
