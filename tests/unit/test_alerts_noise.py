"""Noise rules written by operators: what does not parse, or would keep proximity, tamper or specials from a
person, is refused with a reason the author can act on; the engine keeps them from a person whatever the
rules say; a clear-cut breach can go straight to the official."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openem.alerts.noise import RuleRefused, check_rule, check_silence, parse_match
from openem.alerts.triage import DEFAULT_RULES, Rule, Silence, Triage


def _rule(match: str, action: str = "suppress", **kw: str) -> Rule:
    args = {"rule_id": "quiet-test", "action": action, "mode": "active", "window": "0", "match_text": match,
            "description": "", "reason": "testing"}  # fmt: skip
    args.update(kw)
    return check_rule(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("match", "words"),
    [
        ("{kinds: [low_battery]}", "not valid JSON"),
        ('["low_battery"]', "must be a JSON object"),
        ('{"kind": ["low_battery"]}', "unknown key 'kind'"),
        ('{"kinds": "low_battery"}', "must be a list"),
        ('{"kinds": [1, 2]}', "must list words"),
        ('{"max_measure": {"minutes_late": -1}}', "number of 0 or more"),
        ("x" * 5000, "too long"),
    ],
)
def test_a_rule_that_does_not_parse_is_refused_with_the_reason(match: str, words: str) -> None:
    with pytest.raises(RuleRefused, match=words):
        _rule(match)


@pytest.mark.parametrize(
    ("match", "action", "words"),
    [
        ('{"kinds": ["proximity"]}', "suppress", "proximity"),
        ('{"kinds": ["strap_tamper", "low_battery"]}', "hold", "strap tamper"),
        ('{"conditions": ["tamper"]}', "inhibit", "tamper condition"),
        ('{"person_flags": ["special"]}', "suppress", "specials"),
        ('{"severity": ["LOW"]}', "suppress", "names no kinds or conditions"),
        ("{}", "suspend_until_resolved", "names no kinds or conditions"),
        ('{"kinds": ["proximity_breach"]}', "confirm", "proximity"),
    ],
)
def test_a_rule_that_would_keep_proximity_tamper_or_specials_from_a_person_is_refused(
    match: str, action: str, words: str
) -> None:
    with pytest.raises(RuleRefused, match=words):
        _rule(match, action)


def test_a_sound_rule_is_accepted_and_names_its_version() -> None:
    rule = _rule('{"kinds": ["low_battery"]}', mode="monitor", window="15")
    assert (rule.action, rule.mode, rule.window_minutes, rule.version) == ("suppress", "monitor", 15, 1)
    assert _rule("{}", action="escalate").action == "escalate"  # escalating everything is allowed


@pytest.mark.parametrize(
    ("kw", "words"),
    [({"rule_id": "Bad Name"}, "lower-case"), ({"window": "soon"}, "whole number"),
     ({"window": "99999"}, "between"), ({"reason": "  "}, "reason"), ({"action": "delete"}, "Choose an action"),
     ({"mode": "sometimes"}, "Choose a mode")],
)  # fmt: skip
def test_the_rest_of_the_form_is_checked(kw: dict[str, str], words: str) -> None:
    with pytest.raises(RuleRefused, match=words):
        _rule('{"kinds": ["low_battery"]}', **kw)


@given(st.text(max_size=300))
def test_any_text_as_a_match_is_either_a_dict_or_a_clear_refusal(text: str) -> None:
    try:
        assert isinstance(parse_match(text), dict)
    except RuleRefused as exc:
        assert str(exc)


def test_silences_need_a_reason_a_target_a_sane_span_and_never_name_tamper() -> None:
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    ok = {"person_id": "P1"}
    check_silence(ok, t0, t0 + timedelta(hours=2), "hospital stay")
    for match, end, reason, words in (
        (ok, t0 + timedelta(hours=2), "", "reason"),
        ({"kinds": ["no_comms"]}, t0 + timedelta(hours=2), "x", "person or the order"),
        (ok, t0, "x", "end after"),
        (ok, t0 + timedelta(days=15), "x", "14 days"),
        ({"person_id": "P1", "kinds": ["strap_tamper"]}, t0 + timedelta(hours=1), "x", "strap tamper"),
    ):
        with pytest.raises(RuleRefused, match=words):
            check_silence(match, t0, end, reason)


def _alert(aid: str, kind: str, start: str, end: str | None = None, person: str = "P1") -> dict[str, object]:
    return {"alert_id": aid, "kind": kind, "severity": "HIGH", "person_id": person, "order_ref": "EM-1",
            "condition_id": "Z1", "start": start, "end": end}  # fmt: skip


def test_without_any_escalation_rule_tamper_and_proximity_still_reach_a_person() -> None:
    quiet_all = (Rule("quiet-all", 3, {}, "suppress"),)  # as if the data had been edited behind the pages
    t = Triage(rules=quiet_all)
    t.on_alert(_alert("t1", "strap_tamper", "2026-12-01T20:00:00Z"))
    t.on_alert(_alert("p1", "proximity", "2026-12-01T21:00:00Z"))
    t.on_alert(_alert("c1", "curfew_absent", "2026-12-01T22:00:00Z", "2026-12-01T23:00:00Z"))
    by_kind = {i.kinds[0]: i for i in t.finish()}
    assert by_kind["strap_tamper"].needs_person and by_kind["proximity"].needs_person
    assert {d["rule"] for d in by_kind["proximity"].decisions} == {"quiet-all", "invariant:protected"}
    assert not by_kind["curfew_absent"].needs_person


def test_a_silence_on_a_person_never_holds_back_their_tamper() -> None:
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    s = Silence("S1", {"person_id": "P1"}, t0, t0 + timedelta(days=1), "op", "hospital")
    t = Triage(silences=(s,))
    t.on_alert(_alert("c1", "curfew_absent", "2026-12-01T20:00:00Z", "2026-12-01T23:00:00Z"))
    t.on_alert(_alert("t1", "strap_tamper", "2026-12-01T20:30:00Z"))
    by_kind = {i.kinds[0]: i for i in t.finish()}
    assert by_kind["curfew_absent"].state == "suppressed" and by_kind["strap_tamper"].needs_person


def test_a_reopened_group_gathers_its_later_episodes_into_one_new_incident() -> None:
    t = Triage()
    t.on_alert(_alert("a1", "hmu_moved", "2026-12-01T08:00:00Z", "2026-12-01T08:05:00Z"))
    t.on_alert(_alert("a2", "hmu_moved", "2026-12-01T09:00:00Z", "2026-12-01T09:05:00Z"))
    # the first incident closes (as an operator resolving it would), then the group fires again a day later
    for inc in t.incidents.values():
        inc.closed_at = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
    t.on_alert(_alert("a3", "hmu_moved", "2026-12-02T09:00:00Z"))
    t.on_alert(_alert("a4", "hmu_moved", "2026-12-02T09:10:00Z"))
    incidents = t.finish()
    assert [i.episode_ids for i in incidents] == [["a1", "a2"], ["a3", "a4"]]


def test_a_confirm_rule_sends_a_clear_breach_to_the_official_without_an_operator() -> None:
    confirm = Rule(
        "confirm-long-absence", 1, {"kinds": ["curfew_absent"], "confidence": "confirmed"}, "confirm"
    )
    t = Triage(rules=(*DEFAULT_RULES, confirm))
    t.on_alert(_alert("c1", "curfew_absent", "2026-12-01T20:00:00Z", "2026-12-01T23:00:00Z"))
    [inc] = t.finish()
    assert inc.state == "confirmed" and not inc.needs_person
    [esc] = t.escalations
    assert esc["confirmed_by"] == "policy:confirm-long-absence@v1" and esc["episode_ids"] == ["c1"]


def test_a_battery_the_wearer_is_not_charging_reaches_an_operator_but_a_lost_signal_does_not() -> None:
    t = Triage()
    t.on_alert(_alert("b1", "low_battery", "2026-12-01T10:00:00Z"))
    t.on_alert(_alert("n1", "no_comms", "2026-12-02T10:00:00Z", "2026-12-02T11:00:00Z", person="P2"))
    by_person = {i.person_id: i for i in t.finish()}
    assert by_person["P1"].needs_person  # an operator calls the wearer to charge it
    assert not by_person["P2"].needs_person
    assert by_person["P2"].decisions[-1]["rule"] == "route-device-fault"
    assert by_person["P2"].decisions[-1]["version"] == 2


def test_a_long_late_return_goes_to_the_official_and_a_short_one_to_an_operator() -> None:
    t = Triage()
    t.on_alert({**_alert("l1", "curfew_late_return", "2026-12-01T19:00:00Z", "2026-12-01T19:40:00Z"),
                "details": {"minutes": 40}})  # fmt: skip
    t.on_alert({**_alert("l2", "curfew_late_return", "2026-12-01T19:00:00Z", "2026-12-01T19:07:00Z", person="P2"),
                "details": {"minutes": 7}})  # fmt: skip
    by_person = {i.person_id: i for i in t.finish()}
    assert by_person["P1"].state == "confirmed" and not by_person["P1"].needs_person
    assert by_person["P2"].needs_person and by_person["P2"].state == "open"
    assert [e["confirmed_by"] for e in t.escalations] == ["policy:confirm-late-return@v1"]


def _not_home(aid: str, person: str) -> dict[str, object]:
    # the engine's alert at start + grace, still open (as `openem monitor replay` writes it)
    return {**_alert(aid, "curfew_not_home", "2026-12-01T19:00:00Z", None, person=person),
            "details": {"in_progress": True}}  # fmt: skip


def test_a_late_return_announced_by_not_home_is_still_confirmed_or_auto_closed_by_policy() -> None:
    # since the episodes work a night away raises `curfew_not_home` first, in the same curfew-night incident
    t = Triage()
    t.on_alert(_not_home("n1", "P1"))
    t.on_alert({**_alert("l1", "curfew_late_return", "2026-12-01T19:00:00Z", "2026-12-01T19:17:00Z"),
                "details": {"minutes": 17}})  # fmt: skip
    t.on_alert(_not_home("n2", "P2"))
    t.on_alert({**_alert("l2", "curfew_late_return", "2026-12-01T19:00:00Z", "2026-12-01T19:08:00Z", person="P2"),
                "details": {"minutes": 8, "grace_minutes": 5}})  # fmt: skip
    t.on_alert(_not_home("n3", "P3"))  # still away: no outcome yet, so it waits for one (suspend-not-home)
    by_person = {i.person_id: i for i in t.finish()}
    assert set(by_person["P1"].kinds) == {"curfew_not_home", "curfew_late_return"}
    assert by_person["P1"].state == "confirmed" and not by_person["P1"].needs_person
    assert by_person["P2"].needs_person  # 3 minutes beyond the grace: a breach, for an operator
    assert not by_person["P3"].needs_person and by_person["P3"].state == "suspended"
    assert [e["confirmed_by"] for e in t.escalations] == ["policy:confirm-late-return@v1"]


def test_the_server_path_episodes_of_a_late_night_confirm_the_late_return() -> None:
    # the server feeds episodes (opened, closed `returned`, then the late return's own episode)
    t = Triage()
    base = {"person_id": "P1", "order_ref": "EM-1", "condition_id": "curfew@1", "severity": "MEDIUM",
            "confidence": "confirmed", "start": "2026-12-01T19:00:00Z"}  # fmt: skip
    t.on_episode({**base, "episode_id": "n1", "kind": "curfew_not_home", "revision": 0, "state": "open",
                  "end": None, "measure": {}})  # fmt: skip
    t.on_episode({**base, "episode_id": "n1", "kind": "curfew_not_home", "revision": 1, "state": "closed",
                  "end": "2026-12-01T19:25:00Z", "closed_reason": "returned", "measure": {"minutes_away": 25}})  # fmt: skip
    t.on_episode({**base, "episode_id": "l1", "kind": "curfew_late_return", "revision": 0, "state": "closed",
                  "end": "2026-12-01T19:25:00Z", "details": {"minutes": 25},
                  "measure": {"minutes_late": 25, "minutes_beyond_grace": 20}})  # fmt: skip
    (inc,) = t.finish()
    assert inc.state == "confirmed" and not inc.needs_person
