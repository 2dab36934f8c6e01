"""One chunk of wearers, start to finish: people, orders (with defects), devices, activations, field
reality, telemetry for every day and the ground truth. Deterministic in (seed, chunk index)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from openem.sim import defects, devices, events, signals
from openem.sim.clock import frame_bounds_us, wall_to_utc_us
from openem.sim.delivery import deliver
from openem.sim.movement import DayPlan, build_schedule, sample_track
from openem.sim.orders import build_order, names_for
from openem.sim.population import DAILY, PLANS, PROFILES, Population, place_people, plan_has
from openem.sim.rows import concat, to_arrow
from openem.sim.truth import TruthLog


@dataclass
class Chunk:
    people: pd.DataFrame
    orders: list[dict[str, Any]]
    devices: pd.DataFrame
    activations: pd.DataFrame
    field: pd.DataFrame
    telemetry: pa.Table
    truth: pd.DataFrame
    naive: dict[str, list[int]] = field(default_factory=dict[str, Any])
    wearer_days: int = 0


def _daily(rng: np.random.Generator, profile: np.ndarray, what: str) -> np.ndarray:
    p = np.zeros(len(profile))
    for name, prob in DAILY[what].items():
        p[profile == name] = prob
    return rng.random(len(profile)) < p


def build_chunk(
    pop: Population,
    lo: int,
    hi: int,
    seed: int,
    chunk_index: int,
    start: date,
    days: int,
    interval_s: int = 60,
) -> Chunk:
    rng = np.random.default_rng([seed, 2, chunk_index])
    fake = names_for(seed)
    n = hi - lo
    plan = pop.plan[lo:hi]
    profile = np.array(PROFILES, dtype=object)[pop.profile[lo:hi]]
    geo = place_people(rng, plan)
    person_ids = np.array([f"PER-{seed % 10000:04d}{lo + i:07d}" for i in range(n)], dtype=object)
    order_refs = np.array([f"ORD-{seed % 10000:04d}{lo + i:07d}" for i in range(n)], dtype=object)
    fld = devices.field_reality(rng, n)
    victim_p = rng.random(n) < 0.5
    # devices: one of each needed kind per fitted person
    dev_rows: list[tuple[str, str, str, str, int]] = []
    dev_idx = {k: np.full(n, -1, dtype=np.int64) for k in devices.KINDS}
    for kind in devices.KINDS:
        for j in np.flatnonzero(devices.needs(plan, kind, victim_p)):
            model, fws = devices.MODELS[kind]
            did = devices.device_id(kind, seed, lo + int(j))
            dev_idx[kind][j] = len(dev_rows) if fld["fitted"][j] else -1
            dev_rows.append((did, kind, model, fws[int(rng.integers(len(fws)))], int(j)))
    device_ids = np.array([d[0] for d in dev_rows], dtype=object)
    dev_person = np.full(len(dev_rows), -1, dtype=np.int64)  # -1: in stock, not fitted (sends nothing)
    for kind in devices.KINDS:
        live = dev_idx[kind][dev_idx[kind] >= 0]
        dev_person[live] = np.array([dev_rows[j][4] for j in live], dtype=np.int64)
    # orders
    needs_victim = devices.needs(plan, "VICTIM", victim_p)
    orders: list[dict[str, Any]] = []
    acts = []
    for i in range(n):
        vic = device_ids[dev_idx["VICTIM"][i]] if dev_idx["VICTIM"][i] >= 0 else None
        if vic is None and needs_victim[i]:
            vic = devices.device_id("VICTIM", seed, lo + i)
        doc = build_order(
            fake,
            rng,
            i,
            order_refs[i],
            person_ids[i],
            int(pop.cohort[lo + i]),
            int(plan[i]),
            bool(pop.is_youth[lo + i]),
            geo,
            start,
            days,
            vic,
        )
        clean = {"monitoring": dict(doc["monitoring"]), "installation": dict(doc["installation"])}
        doc["defects"] = []
        dup = None
        if pop.defective[lo + i]:
            if rng.random() < 0.1:
                dup = defects.duplicate(doc, f"{order_refs[i]}-D")
            else:
                doc["defects"] = defects.inject(doc, rng)
        orders.append(doc)
        if dup is not None:
            orders.append(dup)
        if fld["fitted"][i]:
            act_start = min(
                pd.Timestamp(devices.activation_start(clean, int(fld["attempts"][i]))),
                pd.Timestamp(start, tz="UTC") - pd.Timedelta(hours=12),
            )
            for kind in devices.KINDS:
                if dev_idx[kind][i] >= 0:
                    did = device_ids[dev_idx[kind][i]]
                    acts.append(
                        (
                            "ACT-" + did,
                            did,
                            kind,
                            order_refs[i],
                            person_ids[i],
                            "VICTIM" if kind == "VICTIM" else "WEARER",
                            act_start,
                            None,
                        )
                    )
    has = {
        f: plan_has(plan, f) & fld["fitted"]
        for f in ("curfew", "exclusion", "inclusion", "victim", "alcohol", "attendance")
    }
    has["victim"] = has["victim"] & (dev_idx["VICTIM"] >= 0)
    truth = TruthLog()
    levels = {k: rng.uniform(75, 100, n) for k in ("GPS_TAG", "NFD", "VICTIM", "ALCOHOL_TAG")}
    parts = []
    phase = rng.integers(0, interval_s, n)
    absconds_from = rng.integers(0, max(1, days), n)
    for d in range(days):
        day = start + timedelta(days=d)
        drng = np.random.default_rng([seed, 3, chunk_index, d])
        late = _daily(drng, profile, "late_return")
        absent = _daily(drng, profile, "absent_night") | (
            (profile == "absconder") & (d >= absconds_from) & (drng.random(n) < 0.5)
        )
        dp = DayPlan(
            late_min=np.where(late, drng.uniform(10, 110, n), 0.0),
            absent=absent,
            zone_visit=_daily(drng, profile, "zone_entry") & has["exclusion"],
            attend=has["attendance"] & (d == 1) & ~((profile == "absconder") | (drng.random(n) < 0.08)),
            early_min=np.where(_daily(drng, profile, "early_leave"), drng.uniform(15, 60, n), 0.0),
            curfew_end_min=geo.curfew_end_min.astype(float),
        )
        missed = has["attendance"] & (d == 1) & ~dp.attend
        knots, xy = build_schedule(
            drng,
            dp,
            geo.work_xy,
            geo.leisure_xy,
            geo.office_xy,
            geo.zone_xy,
            geo.zone_r,
            geo.curfew_start_min.astype(float),
        )
        track = sample_track(drng, day, knots, xy, interval_s, phase)
        ctx = signals.DayCtx(drng, day, track, geo, dp, profile, dev_idx, has, truth, interval_s)
        if missed.any():
            idx = np.flatnonzero(missed)
            a0 = wall_to_utc_us(day, np.full(len(idx), 180.0))
            truth.add("attendance_missed", True, idx, dev_idx["GPS_TAG"][idx], "A1", a0, a0 + 3600 * 10**6)
            truth.alert("attendance", len(idx))
        in_curfew = signals.curfew_mask(ctx)
        signals.curfew_truth(ctx, in_curfew)
        signals.zone_truth(ctx)
        b_gps, alive_gps = signals.battery(ctx, "GPS_TAG", levels["GPS_TAG"], 3.0, True)
        b_nfd, alive_nfd = signals.battery(ctx, "NFD", levels["NFD"], 2.5, True)
        b_vic, _ = signals.battery(ctx, "VICTIM", levels["VICTIM"], 2.0, True)
        b_alc, _ = signals.battery(ctx, "ALCOHOL_TAG", levels["ALCOHOL_TAG"], 0.12, False)
        parts += [
            signals.gps_rows(ctx, alive_gps, in_curfew), signals.rf_rows(ctx, in_curfew), b_gps, b_nfd, b_vic, b_alc,
            signals.heartbeat_rows(ctx, "HMU"),
            signals.hmu_power_rows(ctx), signals.heartbeat_rows(ctx, "NFD", alive_nfd),
            events.alcohol_rows(ctx), events.tamper_rows(ctx), events.checkin_rows(ctx, alive_nfd), events.victim_rows(ctx),
        ]  # fmt: skip
    t0, _ = frame_bounds_us(start)
    r = deliver(rng, concat(parts), len(dev_rows), t0, days, truth, dev_person)
    dev_arrow = pa.array(device_ids.tolist() if len(device_ids) else [], pa.string())
    table = to_arrow(r, dev_arrow)
    people = pd.DataFrame(
        {
            "person_id": person_ids,
            "first_name": [o["device_wearer"]["first_name"] for o in orders if not o["ref"].endswith("-D")],
            "last_name": [o["device_wearer"]["last_name"] for o in orders if not o["ref"].endswith("-D")],
            "date_of_birth": [
                o["device_wearer"]["date_of_birth"] for o in orders if not o["ref"].endswith("-D")
            ],
            "sex": [o["device_wearer"]["sex"] for o in orders if not o["ref"].endswith("-D")],
            "home_lat": geo.home_lat,
            "home_lon": geo.home_lon,
            "town": [o["addresses"][0]["town"] for o in orders if not o["ref"].endswith("-D")],
            "cohort": [o["monitoring"]["cohort"] for o in orders if not o["ref"].endswith("-D")],
            "is_youth": pop.is_youth[lo:hi],
            "plan": np.array(PLANS)[plan],
            "behaviour_profile": profile.astype(str),
        }
    )
    dev_df = pd.DataFrame(dev_rows, columns=["device_id", "device_kind", "model", "firmware", "person"]).drop(
        columns="person"
    )
    dev_df["serial"] = dev_df["device_id"]
    act_df = pd.DataFrame(
        acts,
        columns=[
            "activation_id",
            "device_id",
            "device_kind",
            "order_ref",
            "person_id",
            "role",
            "start",
            "end",
        ],
    )
    act_df["end"] = pd.Series([pd.NaT] * len(act_df), dtype="datetime64[us, UTC]")
    act_df["start"] = pd.to_datetime(act_df["start"], utc=True).astype("datetime64[us, UTC]")
    fld_df = pd.DataFrame({"order_ref": order_refs, "person_id": person_ids, **fld})
    return Chunk(
        people,
        orders,
        dev_df,
        act_df,
        fld_df,
        table,
        truth.frame(person_ids, order_refs, device_ids),
        dict(truth.naive),
        int(fld["fitted"].sum()) * days,
    )
