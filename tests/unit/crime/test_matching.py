"""Matching on simulated worlds where the truth is known: a wearer at the scene in the window is matched, one
1 km away or an hour off is ruled out, a gap in the trail says unknown, and an order that does not permit this
use or an activation that had ended is never looked at."""

from __future__ import annotations

from datetime import timedelta

import duckdb
from tests.crime_worlds import CRIME_FROM, CRIME_TO, SCENE, offset, write_world

from openem.crime.matching import CrimeWindow, build_passes, letter, match
from openem.crime.sources import world_views


def run(folder, crimes):
    con = duckdb.connect()
    pos, w = world_views(con, folder)
    return match(con, pos, crimes, w)


def test_the_wearer_at_the_scene_is_matched_and_the_others_are_ruled_out_or_unknown(tmp_path):
    world = write_world(tmp_path / "w")
    [r] = run(world, [CrimeWindow("c1", "CR-1", *SCENE, CRIME_FROM, CRIME_TO)])
    assert {p.person_id for p in r.passes} == {"PER-AT"}
    [p] = r.passes
    assert p.label == "A1" and p.closest_m < 5 and p.confidence == "high"
    assert p.entry_bearing == "N" and p.exit_bearing == "N"  # walking south to north
    assert 1.5 <= p.minutes_inside <= 3  # 200 m across the circle at 1.5 m/s, plus accuracy
    assert (
        CRIME_FROM + timedelta(minutes=18)
        <= p.first_seen
        <= p.last_seen
        <= CRIME_FROM + timedelta(minutes=22)
    )
    assert {u.person_id for u in r.unknown} == {"PER-GAP"}  # 1 km away, but 50 min unseen: could have gone
    # permitted and live: AT, FAR, LATE, GAP, HOME; NOTPERMIT and ENDED are never considered
    assert (
        r.considered == 5 and r.ruled_out == 3
    )  # FAR, LATE, HOME (20 km away: a 10-minute gap cannot reach it)


def test_an_hour_off_or_a_kilometre_off_is_not_matched(tmp_path):
    world = write_world(tmp_path / "w")
    earlier = CrimeWindow(
        "c2", "CR-2", *SCENE, CRIME_FROM - timedelta(hours=2), CRIME_FROM - timedelta(hours=1)
    )
    away = CrimeWindow("c3", "CR-3", *offset(*SCENE, 0, 1000.0), CRIME_FROM, CRIME_TO)
    r2, r3 = run(world, [earlier, away])
    assert r2.passes == [] and r3.passes == []


def test_a_position_whose_accuracy_reaches_the_circle_counts_and_one_beyond_does_not(tmp_path):
    wearers = {"NEAR": (lambda t: offset(*SCENE, 140.0, 0.0), [], True, None)}
    world = write_world(tmp_path / "a", wearers, accuracy=50.0)  # 140 m <= 100 + 50
    [r] = run(world, [CrimeWindow("c", "CR", *SCENE, CRIME_FROM, CRIME_TO)])
    assert [p.person_id for p in r.passes] == ["PER-NEAR"] and r.passes[0].confidence != "high"
    world = write_world(tmp_path / "b", wearers, accuracy=30.0)  # 140 m > 100 + 30
    [r] = run(world, [CrimeWindow("c", "CR", *SCENE, CRIME_FROM, CRIME_TO)])
    assert r.passes == [] and r.ruled_out == 1


def test_two_visits_give_two_passes_and_wearers_get_letters_in_order_of_arrival(tmp_path):
    def twice(t):
        m = (t - CRIME_FROM).total_seconds() / 60
        return SCENE if 5 <= m <= 8 or 40 <= m <= 42 else offset(*SCENE, 2000.0, 0.0)

    wearers = {"TWICE": (twice, [], True, None), "ONCE": (lambda t: SCENE if 1 <= (t - CRIME_FROM).total_seconds() / 60 <= 3 else offset(*SCENE, -2000.0, 0.0), [], True, None)}  # fmt: skip
    world = write_world(tmp_path / "w", wearers)
    [r] = run(world, [CrimeWindow("c", "CR", *SCENE, CRIME_FROM, CRIME_TO)])
    assert [(p.label, p.person_id) for p in r.passes] == [
        ("A1", "PER-ONCE"),
        ("B1", "PER-TWICE"),
        ("B2", "PER-TWICE"),
    ]


def test_many_crimes_in_one_run_each_get_their_own_answer(tmp_path):
    world = write_world(tmp_path / "w")
    crimes = [
        CrimeWindow(f"k{i}", f"CR-{i}", *offset(*SCENE, 0, i * 300.0), CRIME_FROM, CRIME_TO)
        for i in range(30)
    ]
    results = run(world, crimes)
    assert [bool(r.passes) for r in results] == [True] + [False] * 29


def test_letters_run_past_z():
    assert [letter(i) for i in (0, 1, 25, 26, 27)] == ["A", "B", "Z", "AA", "AB"]


def test_a_single_fix_with_gaps_either_side_is_low_confidence():
    t = CRIME_FROM
    trail = [
        {"person_id": "P", "device_id": "D", "time": t, "lat": SCENE[0] + 0.05, "lon": SCENE[1], "accuracy_m": 10.0, "distance_m": 5000.0, "near": False},
        {"person_id": "P", "device_id": "D", "time": t + timedelta(minutes=20), "lat": SCENE[0], "lon": SCENE[1], "accuracy_m": 10.0, "distance_m": 0.0, "near": True},
    ]  # fmt: skip
    from openem.crime.model import policy

    [p] = build_passes("A", trail, policy())
    assert p.confidence == "low" and p.positions == 1 and p.entry_bearing == "S"
