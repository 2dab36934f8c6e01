"""Episodes as an official needs them: a zone visit that ends says when and how long; a possible entry is
kept for review and closes "not confirmed"; a restart gives the same episodes."""

from __future__ import annotations

from datetime import timedelta

from openem.monitoring.engine import Engine

from .fixtures import HOME, T0, Device
from .test_engine_zones import ZONE_CENTRE, engine_with_zone


def _visit(dev: Device, minutes_inside: int, acc: float = 5.0) -> list:
    inside = [dev.fix(T0 + timedelta(minutes=i), *ZONE_CENTRE, acc=acc) for i in range(minutes_inside + 1)]
    out = [dev.fix(T0 + timedelta(minutes=minutes_inside + 1 + i), *HOME) for i in range(2)]
    return inside + out


def test_a_four_minute_zone_visit_closes_with_its_end_and_minutes_inside() -> None:
    eng, dev = engine_with_zone(), Device("GPS-1")
    alerts = eng.process(_visit(dev, 4))
    [entry] = [a for a in alerts if a["kind"] == "exclusion_entry"]
    records = eng.take_episodes()
    mine = [r for r in records if r["episode_id"] == entry["id"]]
    assert [r["change"] for r in mine] == ["opened", "closed"]
    closed = mine[-1]
    assert closed["state"] == "closed" and closed["closed_reason"] == "ended"
    assert closed["start"] == "2026-11-23T12:00:00Z" and closed["end"] == "2026-11-23T12:05:00Z"
    assert closed["measure"]["minutes_inside"] == 5.0  # from the first fix inside to the first fix clear
    assert closed["revision"] == 1 and eng.episodes == {}


def test_a_stay_still_in_the_zone_stays_open_and_its_minutes_grow() -> None:
    eng, dev = engine_with_zone(), Device("GPS-1")
    eng.process([dev.fix(T0 + timedelta(minutes=i), *ZONE_CENTRE) for i in range(12)])
    records = eng.take_episodes()
    assert records[-1]["state"] == "open" and records[-1]["measure"]["minutes_inside"] >= 10.0


def test_a_single_uncertain_fix_is_kept_for_review_and_closes_not_confirmed() -> None:
    eng, dev = engine_with_zone(), Device("GPS-1")
    msgs = [dev.fix(T0, *ZONE_CENTRE, acc=300.0), dev.fix(T0 + timedelta(minutes=1), *HOME)]
    alerts = eng.process(msgs)
    [possible] = [a for a in alerts if a["kind"] == "exclusion_possible"]
    assert possible["severity"] == "LOW"
    records = [r for r in eng.take_episodes() if r["episode_id"] == possible["id"]]
    assert records[0]["confidence"] == "possible"
    assert records[-1]["closed_reason"] == "not_confirmed"


def test_a_possible_entry_that_is_confirmed_is_superseded_by_the_entry() -> None:
    eng, dev = engine_with_zone(), Device("GPS-1")
    msgs = [dev.fix(T0, *ZONE_CENTRE, acc=300.0)]
    msgs += [dev.fix(T0 + timedelta(minutes=1 + i), *ZONE_CENTRE) for i in range(3)]
    eng.process(msgs)
    records = eng.take_episodes()
    assert [(r["kind"], r["change"], r["closed_reason"]) for r in records] == [
        ("exclusion_possible", "opened", None),
        ("exclusion_entry", "opened", None),
        ("exclusion_possible", "closed", "superseded"),
    ]


def test_a_restart_mid_visit_gives_the_same_episodes() -> None:
    msgs = _visit(Device("GPS-1"), 6)
    straight = engine_with_zone()
    straight.process(msgs)
    one = straight.take_episodes()
    eng = engine_with_zone()
    eng.process(msgs[:4])
    before = eng.take_episodes()
    restored = Engine.restore(eng.snapshot())
    restored.process(msgs[4:])

    def seen(records: list) -> list:  # detection times follow the batches received; the episodes do not
        return [{k: v for k, v in r.items() if k not in ("detected_at", "updated_at")} for r in records]

    assert seen(before + restored.take_episodes()) == seen(one)
    assert one[-1]["state"] == "closed"


# ---- curfew: someone away from 19:00 is flagged once the grace has passed, not at 07:02 next morning ----
from datetime import UTC, datetime  # noqa: E402

from .test_curfew import rf_engine  # noqa: E402


def _at(hour: int, minute: int = 0, day: int = 23) -> float:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC).timestamp()


def test_away_at_curfew_start_opens_an_episode_after_the_grace_and_closes_at_the_return() -> None:
    eng, hmu = rf_engine()
    eng.process([hmu.msg("rf", T0.replace(hour=18), present=False, tag_id="T")])
    assert not [a for a in eng.advance_watermark(_at(19, 4)) if a["kind"].startswith("curfew")]  # in grace
    [opened] = [a for a in eng.advance_watermark(_at(19, 6)) if a["kind"].startswith("curfew")]
    assert opened["kind"] == "curfew_not_home" and opened["end"] is None
    assert opened["start"] == "2026-11-23T19:00:00Z" and opened["detected_at"].startswith("2026-11-23T19:06")
    eng.advance_watermark(_at(20, 0))
    back = eng.process([hmu.msg("rf", T0.replace(hour=21), present=True, tag_id="T")])
    # the late return is still raised when the wearer gets home (a new alert, as an operator expects)
    [late] = [a for a in back if a["kind"].startswith("curfew")]
    assert (late["kind"], late["end"]) == ("curfew_late_return", "2026-11-23T21:00:00Z")
    assert late["id"] != opened["id"]
    records = [r for r in eng.take_episodes() if r["episode_id"] == opened["id"]]
    assert records[0]["change"] == "opened" and records[0]["state"] == "open"
    assert any(r["change"] == "updated" and r["measure"]["minutes_away"] >= 50 for r in records)
    last = records[-1]
    assert (last["state"], last["closed_reason"], last["end"]) == (
        "closed",
        "returned",
        "2026-11-23T21:00:00Z",
    )
    assert last["measure"]["minutes_late"] == 120.0 and last["measure"]["minutes_beyond_grace"] == 115.0


def _forwarded_night(hmu) -> list:
    """Away since 18:00; the unit stored "home at 19:02" and forwarded it at 19:40; home all night after."""
    return [
        hmu.msg("rf", T0.replace(hour=18), present=False, tag_id="T"),
        hmu.msg("rf", T0.replace(hour=19, minute=2), delay_s=38 * 60, present=True, tag_id="T"),
        hmu.msg("rf", T0.replace(hour=22), present=True, tag_id="T"),
    ]


def test_not_home_at_the_grace_is_judged_on_what_was_received_by_then_whatever_the_batches() -> None:
    from openem.monitoring import replay
    from openem.monitoring.columns import to_columns

    runs = []
    for batch_s in (60.0, 300.0, 3600.0, 86400.0):
        eng, hmu = rf_engine()
        cols = to_columns(sorted(_forwarded_night(hmu), key=lambda m: m["receive_time"]))
        alerts = []
        for lo, hi in replay.cuts(cols.rx, batch_s):
            alerts += eng.process(cols.slice(lo, hi))
            alerts += eng.advance_watermark(float(cols.rx[hi - 1]))
        alerts += eng.advance_watermark(_at(8, day=24))
        closed = [r for r in eng.take_episodes() if r["kind"] == "curfew_not_home" and r["state"] == "closed"]
        cf = sorted(a["id"] for a in alerts if a["kind"].startswith("curfew"))
        runs.append((cf, sorted(a["id"] for a in alerts), [(r["closed_reason"], r["end"]) for r in closed]))
    # at 19:05 the platform knew only "away since 18:00": the wearer is reported not home, at any batch size,
    # and the episode closes "not confirmed" once the forwarded reading shows them home at 19:02
    assert all(r == runs[0] for r in runs), runs
    curfew_ids, _, closed = runs[0]
    assert len(curfew_ids) == 1 and closed == [("not_confirmed", "2026-11-23T19:02:00Z")]


def test_home_by_the_grace_on_data_received_by_then_raises_nothing() -> None:
    eng, hmu = rf_engine()
    msgs = [hmu.msg("rf", T0.replace(hour=18), present=False, tag_id="T"),
            hmu.msg("rf", T0.replace(hour=19, minute=3), present=True, tag_id="T")]  # fmt: skip
    alerts = eng.process(msgs) + eng.advance_watermark(_at(8, day=24))
    assert not [a for a in alerts if a["kind"].startswith("curfew")]


def test_first_window_a_first_reading_out_of_range_is_a_late_return() -> None:
    eng, hmu = rf_engine()  # the home unit has never reported before this night
    msgs = [hmu.msg("rf", T0.replace(hour=19, minute=30), present=False, tag_id="T"),
            hmu.msg("rf", T0.replace(hour=21), present=True, tag_id="T")]  # fmt: skip
    alerts = [a for a in eng.process(msgs) if a["kind"].startswith("curfew")]
    assert [(a["kind"], a["start"], a["end"]) for a in alerts] == [
        ("curfew_late_return", "2026-11-23T19:00:00Z", "2026-11-23T21:00:00Z")
    ]


# ---- alcohol: the peak, not the level at confirmation; skin contact lost says how long compliance was unknown
from .fixtures import activation, order  # noqa: E402
from .test_sparse_runs import message  # noqa: E402


def _alcohol_engine() -> Engine:
    eng = Engine()
    eng.apply_order(order(alcohol={"mode": "ABSTINENCE"}))
    eng.apply_activation(activation("ALC-1", "ALCOHOL_TAG"))
    return eng


def test_a_drinking_episode_reports_its_peak_and_closes_when_the_curve_is_down() -> None:
    curve = [0.0, 0.03, 0.06, 0.07, 0.08, 0.05, 0.02, 0.005, 0.0]
    eng = _alcohol_engine()
    eng.process([message("ALC-1", i, 30 * i, "alcohol", tac_gdl=v, ir_skin=1.0, temp_c=33.0)
                 for i, v in enumerate(curve)])  # fmt: skip
    records = [r for r in eng.take_episodes() if r["kind"] == "alcohol_drinking"]
    assert records[-1]["state"] == "closed" and records[-1]["measure"]["peak_tac"] == 0.08
    assert records[0]["measure"]["peak_tac"] < 0.08  # confirmed lower, then updated


def test_two_hours_off_the_skin_closes_with_two_hours_of_unknown_compliance() -> None:
    eng = _alcohol_engine()
    off = [message("ALC-1", i, 30 * i, "alcohol", tac_gdl=0.0, ir_skin=0.1, temp_c=30.0) for i in range(4)]
    back = [message("ALC-1", 4 + i, 120 + 30 * i, "alcohol", tac_gdl=0.0, ir_skin=1.0, temp_c=33.0)
            for i in range(2)]  # fmt: skip
    eng.process(off)
    eng.process(back)
    [closed] = [
        r for r in eng.take_episodes() if r["kind"] == "alcohol_skin_tamper" and r["state"] == "closed"
    ]
    assert closed["measure"]["minutes_unknown_compliance"] == 120.0


# ---- an order never fitted: still open twenty days later, and says for how long ----
def test_an_order_never_fitted_stays_open_and_counts_the_hours_unmonitored() -> None:
    eng = Engine()
    eng.apply_order(order(curfew={"start": "2026-11-20T00:00:00Z", "end": "2027-01-01T00:00:00Z",
                                  "timetable": [{"day": "MONDAY", "start": "19:00", "end": "07:00"}]}))  # fmt: skip
    start = T0.timestamp()
    alerts = []
    for h in range(0, 20 * 24 + 1, 6):
        alerts += eng.advance_watermark(start + h * 3600)
    assert [a["kind"] for a in alerts if a["kind"].startswith("unmonitored")] == ["unmonitored_no_device"]
    [ep] = [e for e in eng.episodes.values() if e["kind"] == "unmonitored_no_device"]
    assert ep["state"] == "open" and ep["measure"]["hours_unmonitored"] >= 20 * 24 - 1


# ---- replay writes the episodes live publishes, and says which were still open when the data ended ----
def test_replay_says_an_episode_was_still_open_at_the_end_of_the_data() -> None:
    from openem.monitoring import replay as rp

    eng, dev = engine_with_zone(), Device("GPS-1")
    eng.process([dev.fix(T0 + timedelta(minutes=i), *ZONE_CENTRE) for i in range(3)])
    records = rp.episode_records(eng, (T0 + timedelta(minutes=3)).timestamp())
    last = records[-1]
    assert (last["state"], last["closed_reason"], last["end"]) == ("open", "end_of_data", None)
    counts = rp.episode_counts(records, 1.0)
    assert counts["records"] == {"opened": 1, "end_of_data": 1}


# ---- Accumulated Time Violation: 10, 12 and 15 minutes beyond grace on three nights cross a 30-minute policy
def test_lateness_over_three_nights_reaches_the_atv_policy_threshold_with_its_nights() -> None:
    from openem.monitoring.model import default_thresholds

    th = {**default_thresholds(), "atv": {"policy_version": 3, "minutes_beyond_grace": {"default": 30}}}
    eng = Engine(th)
    eng.apply_order(order(curfew={"start": "2026-11-20T00:00:00Z", "end": "2027-01-01T00:00:00Z",
                                  "timetable": [{"day": d, "start": "19:00", "end": "07:00"}
                                                for d in ("MONDAY", "TUESDAY", "WEDNESDAY")],
                                  "grace_minutes": 5}))  # fmt: skip
    eng.apply_activation(activation("HMU-1", "HMU"))
    hmu = Device("HMU-1")
    alerts = []
    for day, late in ((23, 15), (24, 17), (25, 20)):  # 10, 12 and 15 minutes beyond the 5 minutes' grace
        night = T0.replace(day=day)
        alerts += eng.process([hmu.msg("rf", night.replace(hour=18), present=False, tag_id="T"),
                               hmu.msg("rf", night.replace(hour=19, minute=late), present=True, tag_id="T")])  # fmt: skip
    [atv] = [a for a in alerts if a["kind"] == "atv_threshold_reached"]
    assert atv["details"]["atv_minutes_total"] == 37.0 and atv["details"]["policy"] == "atv@v3"
    assert [n["minutes_beyond_grace"] for n in atv["details"]["nights"]] == [10.0, 12.0, 15.0]
