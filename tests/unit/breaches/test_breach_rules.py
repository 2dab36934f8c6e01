"""Pure breach rules: routing as data, violation periods across clock changes with today's contract deadlines,
responses in order and by the right agency only, reminders, and a map that never turns text into markup."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from openem.breaches import rules, svgmap
from openem.breaches.model import Recorded, ResponseRefused, check_response

ROUTES = rules.load_routing()


def route(d):
    return dataclasses.astuple(rules.route_breach(d, ROUTES))


def doc(cohort: str, **kw):
    return {"monitoring": {"cohort": cohort, "is_youth": kw.get("youth", False)},
            "offence_risk": {"specials": kw.get("specials", False)},
            "interested_parties": {"police_area": "MERSEYSIDE", "probation_region": "NORTH_WEST", "delivery_unit": "LIVERPOOL",
                                   "responsible_officer_email": "o.fficer@example.gov.uk",
                                   "responsible_organisation": kw.get("org", "PROBATION")}}  # fmt: skip


def test_routing_by_cohort():
    assert route(doc("COURT_BAIL", org="POLICE"))[:2] == ("police", "police:MERSEYSIDE")
    assert route(doc("POST_RELEASE"))[:3] == (
        "probation",
        "probation:NORTH_WEST:LIVERPOOL",
        "o.fficer@example.gov.uk",
    )
    assert rules.route_breach(doc("IMMIGRATION_BAIL", org="HOME_OFFICE"), ROUTES).agency == "home_office"
    assert rules.route_breach(doc("COURT_SENTENCE", youth=True), ROUTES).agency == "youth_justice"
    special = rules.route_breach(doc("SPECIALS", specials=True), ROUTES)
    assert special.urgency == "immediate" and special.team == "probation:specials:NORTH_WEST"


@pytest.mark.parametrize(
    "bad", [{}, {"monitoring": "x"}, {"interested_parties": None, "monitoring": {"cohort": 7}}]
)
def test_an_order_document_that_says_nothing_goes_to_the_monitoring_centre(bad):
    assert rules.route_breach(bad, ROUTES).team == "monitoring_centre:unrouted"


def test_hostile_text_in_the_order_cannot_shape_the_team_key():
    d = doc("COURT_BAIL", org="POLICE")
    d["interested_parties"]["police_area"] = "X}{0}:../<script>" + "A" * 500
    team = rules.route_breach(d, ROUTES).team
    assert (
        team.startswith("police:X0")
        and "<" not in team
        and ":" not in team[len("police:") :]
        and len(team) < 100
    )


@pytest.mark.parametrize("text,err", [('{"rules": [{"id": "a", "match": {"cohort": ["X"]}, "agency": "police", "team": "t"}]}', "catch-all"),
                                      ('{"rules": [{"match": {}}]}', "does not parse"),
                                      ('{"rules": [{"id": "a", "match": {}, "agency": "p", "team": "t", "urgency": "soon"}]}', "urgency")])  # fmt: skip
def test_routing_rules_that_do_not_parse_are_refused(text, err):
    with pytest.raises(ValueError, match=err):
        rules.load_routing(text)


def test_violation_period_and_contract_deadlines():
    at = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # 06:30 GMT belongs to the period that began the day before
    p = rules.violation_period(at)
    assert p.start == datetime(2026, 11, 30, 7, 0, tzinfo=UTC) and p.end == datetime(
        2026, 12, 1, 7, 0, tzinfo=UTC
    )
    assert p.notification_due == datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert p.pack_due == datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    summer = rules.violation_period(datetime(2026, 7, 1, 6, 30, tzinfo=UTC))  # 07:30 BST
    assert summer.start == datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


@given(st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 1, 1), timezones=st.just(UTC)))
def test_every_instant_is_in_its_period_and_packs_are_due_29_to_53_hours_after(at):
    p = rules.violation_period(at)
    assert p.start <= at < p.end
    hours = (p.pack_due - at).total_seconds() / 3600
    assert 28 <= hours <= 54  # 29 to 53 h, give or take the clock change


def test_police_follow_radu_in_order_and_once():
    h: list[Recorded] = []
    for step, value in (("receive", ""), ("assess", ""), ("decide", "arrest"), ("update", "")):
        check_response("police", "bail", "police", step, value, h)
        h.append(Recorded("police", step, value))
    with pytest.raises(ResponseRefused) as e:
        check_response("police", "bail", "police", "update", "", h)
    assert e.value.code == "duplicate"
    check_response("police", "bail", "court", "court_decision", "remanded", h)


@pytest.mark.parametrize("agency,template,who,step,value,code", [
    ("police", "bail", "probation", "receive", "", "wrong_agency"),
    ("probation", "non_bail", "police", "receive", "", "wrong_agency"),
    ("police", "bail", "police", "decide", "arrest", "out_of_order"),
    ("probation", "non_bail", "probation", "close", "", "out_of_order"),
    ("police", "bail", "court", "court_decision", "remanded", "out_of_order"),
    ("probation", "non_bail", "court", "court_decision", "remanded", "wrong_agency"),
    ("police", "bail", "police", "receive", "arrest", "invalid"),
    ("police", "bail", "police", "<script>", "", "invalid"),
    ("police", "bail", "", "receive", "", "wrong_agency"),
])  # fmt: skip
def test_responses_refused(agency, template, who, step, value, code):
    with pytest.raises(ResponseRefused) as e:
        check_response(agency, template, who, step, value, [])
    assert e.value.code == code


def test_probation_decision_must_be_one_of_its_outcomes():
    h = [Recorded("probation", "receive", "")]
    with pytest.raises(ResponseRefused):
        check_response("probation", "non_bail", "probation", "decide", "remanded", h)
    check_response("probation", "non_bail", "probation", "decide", "recall", h)


def test_reminders_at_thresholds_from_data_and_once_each():
    data = rules.load_reminders()
    pol = rules.reminder_policy(data, "probation", "standard")
    assert pol.remind_after == timedelta(days=5)
    t0 = datetime(2026, 12, 1, tzinfo=UTC)
    assert rules.reminders_due(pol, t0, None, [], t0 + timedelta(days=4)) == []
    assert rules.reminders_due(pol, t0, None, [], t0 + timedelta(days=5)) == ["remind"]
    assert rules.reminders_due(pol, t0, None, ["remind"], t0 + timedelta(days=11)) == ["escalate"]
    assert rules.reminders_due(pol, t0, t0 + timedelta(days=1), [], t0 + timedelta(days=11)) == []
    assert rules.reminder_policy(data, "probation", "immediate").remind_after == timedelta(hours=2)
    with pytest.raises(ValueError):
        rules.load_reminders('{"default": {"remind_after_hours": 10, "escalate_after_hours": 5}}')


def test_clocks_beside_contract_and_targets():
    t = datetime(2026, 12, 1, 20, 0, tzinfo=UTC)
    stamps = {"violation_start": t, "confirmed": t + timedelta(minutes=10), "pack": t + timedelta(minutes=10, seconds=1),
              "delivered": t + timedelta(minutes=15)}  # fmt: skip
    rows = {r["stage"]: r for r in rules.clocks(stamps, rules.violation_period(t))}
    assert list(rows) == list(rules.STAGES)
    assert rows["pack"]["target_met"] is True and rows["delivered"]["target_met"] is False
    assert rows["delivered"]["contract_met"] is True and rows["outcome"]["at"] is None
    assert rows["delivered"]["since_violation_s"] == 900


def test_map_escapes_people_text_and_survives_bad_geometry():
    svg = svgmap.draw([{"lat": 53.8, "lon": -1.5, "device_time": None}, {"lat": "nan", "lon": 1}],
                      [{"name": "<script>alert(1)</script>", "geometry": {"type": "Polygon", "coordinates": [[[-1.5, 53.8], [-1.49, 53.8], [-1.49, 53.81]]]}},
                       {"name": "broken", "geometry": {"type": "Polygon", "coordinates": "x"}}],
                      [{"label": "1 <b>Road</b>", "lat": 53.79, "lon": -1.51, "curfew": True}])  # fmt: skip
    assert "<script>" not in svg and "&lt;script&gt;" in svg and "&lt;b&gt;" in svg and svg.endswith("</svg>")
    assert "No positions" in svgmap.draw([], [], [])
