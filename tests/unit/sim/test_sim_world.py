"""The world as a whole: calibration in the manifest, table shapes per the contracts, determinism, truth."""

from __future__ import annotations

import numpy as np
import pandas as pd

from openem.sim import generate_world
from openem.sim.population import COHORT_SHARES, COHORTS, quota_assign
from openem.sim.truth import TRUTH_KINDS

from .sim_fixtures import small_world

WIRE_COLUMNS = [
    "device_id", "seq", "type", "device_time", "receive_time", "lat", "lon", "accuracy_m", "hdop", "speed_mps",
    "heading_deg", "source", "present", "rssi_dbm", "tag_id", "tac_gdl", "ir_skin", "temp_c", "level_pct",
    "charging", "tamper_kind", "tamper_state", "result", "mains", "moved",
]  # fmt: skip


def test_manifest_shows_the_calibration() -> None:
    cal = small_world().manifest["calibration"]
    for cohort, share in zip(COHORTS, COHORT_SHARES, strict=True):
        assert abs(cal["cohort_shares"][cohort] - share) <= 0.02
    assert 0.21 <= cal["order_defect_rate"] <= 0.25
    assert 530_000 <= cal["expected_alerts_per_year_29000_people"] <= 3_000_000
    assert 0.0 < cal["fault_alert_share"] < 0.2
    assert cal["naive_alerts_per_wearer_day"]["curfew"] > 0


def test_quota_assignment_holds_shares_at_any_size() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 7, 50, 333):
        got = np.bincount(quota_assign(rng, n, COHORTS, COHORT_SHARES), minlength=5) / n
        assert np.all(np.abs(got - np.array(COHORT_SHARES)) <= 1 / n + 1e-9)


def test_telemetry_columns_follow_the_wire_contract() -> None:
    t = small_world().telemetry
    assert t.column_names == WIRE_COLUMNS
    assert str(t.schema.field("device_time").type) == "timestamp[us, tz=UTC]"
    df = t.to_pandas()
    assert (df["receive_time"] >= df["device_time"]).all()
    assert df["receive_time"].is_monotonic_increasing
    assert set(df["type"]) >= {"gps", "rf", "alcohol", "battery", "tamper", "checkin", "heartbeat"}
    gps = df[df["type"] == "gps"]
    assert gps["lat"].between(49.8, 55.9).all() and gps["lon"].between(-6.5, 1.9).all()
    devices = set(small_world().devices["device_id"])
    assert set(df["device_id"]) <= devices


def test_duplicates_late_and_out_of_order_uploads() -> None:
    df = small_world().telemetry.to_pandas()
    dup = df.duplicated(["device_id", "seq"], keep=False)
    assert dup.sum() > 0
    same = df[dup].groupby(["device_id", "seq"])["device_time"].nunique()
    assert (same == 1).all()  # a repeat is the same message
    late = (df["receive_time"] - df["device_time"]).dt.total_seconds()
    assert (late > 1800).sum() > 0  # store and forward after an outage
    first = df.drop_duplicates(["device_id", "seq"])
    backwards = first.groupby("device_id")["device_time"].apply(
        lambda s: (s.diff().dt.total_seconds() < 0).any()
    )
    assert backwards.any()
    outages = small_world().truth
    assert (outages["detail"] == "network_outage").sum() > 0


def test_truth_covers_violations_and_faults() -> None:
    truth = small_world().truth
    assert set(truth["kind"]) <= set(TRUTH_KINDS)
    assert {"curfew_late_return", "device_fault", "no_comms", "checkin_missed", "low_battery"} <= set(
        truth["kind"]
    )
    assert truth["is_violation"].any() and (~truth["is_violation"]).any()
    assert (truth["end"] >= truth["start"]).all()
    faults = truth[truth["kind"] == "device_fault"]
    assert not faults["is_violation"].any()
    people = set(small_world().people["person_id"])
    assert set(truth["person_id"]) <= people
    live = set(small_world().activations["device_id"])
    assert set(truth["device_id"].dropna()) <= live  # nothing happens to a device in stock


def test_truth_is_visible_in_the_telemetry_for_late_returns() -> None:
    w = small_world()
    df = w.telemetry.to_pandas()
    rf = df[df["type"] == "rf"]
    late = w.truth[(w.truth["kind"] == "curfew_late_return") & w.truth["device_id"].str.startswith("HMU")]
    seen = 0
    for _, row in late.iterrows():
        before = rf[
            (rf["device_id"] == row["device_id"])
            & (rf["device_time"] <= row["start"] + pd.Timedelta(minutes=1))
        ]
        if len(before) and not bool(before.sort_values("device_time").iloc[-1]["present"]):
            seen += 1  # the home unit's latest word at curfew start is "absent"
    assert len(late) > 0 and seen >= 0.9 * len(late)


def test_activations_field_and_devices_link_up() -> None:
    w = small_world()
    assert set(w.activations["device_id"]) <= set(w.devices["device_id"])
    assert w.activations["end"].isna().all()
    assert set(w.activations["device_kind"]) <= {"RF_TAG", "HMU", "GPS_TAG", "ALCOHOL_TAG", "NFD", "VICTIM"}
    unfitted = set(w.field.loc[~w.field["fitted"], "person_id"])
    assert not unfitted & set(w.activations["person_id"])
    assert 0.5 < (w.field["attempts"] <= 2).mean() < 0.75


def test_same_seed_same_world_other_seed_other_world() -> None:
    a = generate_world(wearers=30, days=1, seed=4)
    b = generate_world(wearers=30, days=1, seed=4)
    c = generate_world(wearers=30, days=1, seed=5)
    assert a.telemetry.equals(b.telemetry)
    assert a.orders == b.orders
    assert a.truth.equals(b.truth)
    assert not a.telemetry.equals(c.telemetry)


def test_a_world_in_memory_writes_the_same_layout(tmp_path) -> None:
    w = generate_world(wearers=12, days=1, seed=2)
    out = w.write(tmp_path / "w")
    assert pd.read_parquet(out / "telemetry").shape[0] == w.telemetry.num_rows
    assert len((out / "orders.jsonl").read_text().splitlines()) == len(w.orders)
    assert pd.read_parquet(out / "truth.parquet").shape[0] == len(w.truth)


def test_nothing_happens_after_the_world_ends_and_no_office_is_next_door_to_a_workplace() -> None:
    from openem.monitoring.replay import world_end
    from openem.sim.population import OFFICE_MIN_FROM_WORK_M, place_people

    w = small_world()
    end = world_end(w.manifest)
    assert end is not None
    device_times = w.telemetry.column("device_time").to_pandas()
    assert device_times.max().timestamp() <= end  # a power cut near midnight ends by the day's end
    geo = place_people(np.random.default_rng(3), np.zeros(5000, dtype=int))
    gap = np.hypot(*(geo.office_xy - geo.work_xy).T)
    assert gap.min() >= OFFICE_MIN_FROM_WORK_M - 1e-6
