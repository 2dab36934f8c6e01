"""Discrete device events of a day: transdermal alcohol readings (absorption/elimination curves,
environmental contaminant spikes, skin-contact tamper), strap tamper (real and spurious), biometric
check-ins of non-fitted devices, and the victim's proximity device."""

from __future__ import annotations

import numpy as np

from openem.sim import places
from openem.sim.clock import US, wall_to_utc_us
from openem.sim.rows import Rows, concat, rows
from openem.sim.signals import DayCtx

BODY_RISE_MAX = 0.045  # g/dl/h: faster than this is not a body absorbing alcohol
CONTAMINANT_RISE_MIN = 0.12  # g/dl/h


def tac_curve(
    t_h: np.ndarray, start_h: np.ndarray, peak: np.ndarray, rise: np.ndarray, fall: np.ndarray
) -> np.ndarray:
    """Piecewise-linear TAC (g/dl) at hours t_h: rise at `rise` g/dl/h to `peak`, then eliminate at `fall`."""
    dt = t_h - start_h
    t_peak = peak / rise
    up = np.clip(dt * rise, 0, None)
    down = peak - (dt - t_peak) * fall
    level: np.ndarray = np.clip(np.where(dt <= t_peak, up, down), 0, None) * (dt >= 0)
    return level


def alcohol_rows(ctx: DayCtx) -> Rows:
    rng = ctx.rng
    who = np.flatnonzero(ctx.dev["ALCOHOL_TAG"] >= 0)
    n = len(who)
    if n == 0:
        return concat([])
    every = max(1, 1800 // ctx.interval_s)
    t = ctx.track.t_us[who][:, ::every]
    day0 = ctx.track.t_us[who][:, :1]
    t_h = (t - day0) / 3600 / US
    prof = ctx.profile[who]
    drink = ((prof == "drinker") & (rng.random(n) < 0.35)) | ((prof == "compliant") & (rng.random(n) < 0.005))
    start = rng.uniform(11, 15, n)  # 18:00-22:00 local
    rise, fall = rng.uniform(0.02, BODY_RISE_MAX, n), rng.uniform(0.010, 0.025, n)
    room = 23.5 - start
    peak = np.minimum(rng.uniform(0.04, 0.15, n), room / (1 / rise + 1 / fall))
    tac = tac_curve(t_h, start[:, None], peak[:, None], rise[:, None], fall[:, None]) * drink[:, None]
    cont = rng.random(n) < 0.02
    c_start, c_peak = rng.uniform(1, 22, n), rng.uniform(0.03, 0.08, n)
    c_rise = c_peak / rng.uniform(5, 15, n) * 60
    c_fall = c_peak / rng.uniform(0.5, 1.0, n)
    tac = (
        tac
        + tac_curve(t_h, c_start[:, None], c_peak[:, None], c_rise[:, None], c_fall[:, None]) * cont[:, None]
    )
    skin = (prof == "tamperer") & (rng.random(n) < 0.2)
    s_start, s_len = rng.uniform(1, 20, n), rng.uniform(1, 4, n)
    off = skin[:, None] & (t_h >= s_start[:, None]) & (t_h < (s_start + s_len)[:, None])
    tac = np.where(off, 0.0, tac + np.where(tac > 0, rng.normal(0, 0.002, tac.shape), 0))
    ir = np.where(off, rng.uniform(0.05, 0.35, t.shape), rng.uniform(0.75, 0.95, t.shape))
    temp = np.where(off, rng.normal(24, 1.5, t.shape), rng.normal(33.5, 0.7, t.shape))
    dev = ctx.dev["ALCOHOL_TAG"][who]
    end_drink = start + peak / rise + peak / fall
    s_us = day0[:, 0] + (start * 3600 * US).astype(np.int64)
    idx = np.flatnonzero(drink)
    ctx.truth.add(
        "alcohol_drinking",
        True,
        who[idx],
        dev[idx],
        "alcohol",
        s_us[idx],
        day0[idx, 0] + (end_drink[idx] * 3600 * US).astype(np.int64),
    )
    idx = np.flatnonzero(cont)
    c0 = day0[idx, 0] + (c_start[idx] * 3600 * US).astype(np.int64)
    c1 = day0[idx, 0] + (
        (c_start[idx] + c_peak[idx] / c_rise[idx] + c_peak[idx] / c_fall[idx]) * 3600 * US
    ).astype(np.int64)
    ctx.truth.add("alcohol_contaminant", False, who[idx], dev[idx], "alcohol", c0, c1, "environmental")
    idx = np.flatnonzero(skin)
    k0 = day0[idx, 0] + (s_start[idx] * 3600 * US).astype(np.int64)
    ctx.truth.add(
        "alcohol_skin_tamper",
        True,
        who[idx],
        dev[idx],
        "alcohol",
        k0,
        k0 + (s_len[idx] * 3600 * US).astype(np.int64),
    )
    ctx.truth.alert("alcohol", int(drink.sum() + cont.sum() + skin.sum()), int(cont.sum()))
    rr, cc = np.nonzero(np.ones(t.shape, dtype=bool))
    return rows(
        "alcohol", dev[rr], t[rr, cc], tac_gdl=np.round(np.maximum(tac[rr, cc], 0), 4),
        ir_skin=np.round(ir[rr, cc], 2), temp_c=np.round(temp[rr, cc], 1),
    )  # fmt: skip


def tamper_rows(ctx: DayCtx) -> Rows:
    """Strap opened (tamperers, absconders) or a spurious open/close from a device fault."""
    rng = ctx.rng
    n = len(ctx.profile)
    tag = np.where(
        ctx.dev["GPS_TAG"] >= 0, ctx.dev["GPS_TAG"], np.where(ctx.dev["RF_TAG"] >= 0, ctx.dev["RF_TAG"], -1)
    )
    has = tag >= 0
    p = np.select([ctx.profile == "tamperer", ctx.profile == "absconder"], [0.2, 0.1], 0.0)
    real = has & (rng.random(n) < p) & ~ctx.has["alcohol"]
    spurious = has & ~real & (rng.random(n) < 0.002)
    day0 = ctx.track.t_us[:, 0]
    at = day0 + (rng.uniform(0.5, 23, n) * 3600 * US).astype(np.int64)
    dur = np.where(real, rng.uniform(5, 60, n) * 60, rng.uniform(20, 90, n)) * US
    closes = at + dur.astype(np.int64)
    parts = []
    for mask, viol, detail in ((real, True, ""), (spurious, False, "spurious_tamper")):
        idx = np.flatnonzero(mask)
        kind = "strap_tamper" if viol else "device_fault"
        ctx.truth.add(kind, viol, idx, tag[idx], "device", at[idx], closes[idx], detail)
        parts.append(rows("tamper", tag[idx], at[idx], tamper_kind="strap", tamper_state="open"))
        parts.append(rows("tamper", tag[idx], closes[idx], tamper_kind="strap", tamper_state="closed"))
    ctx.truth.alert("strap_tamper", int(real.sum() + spurious.sum()), int(spurious.sum()))
    return concat(parts)


def checkin_rows(ctx: DayCtx, alive: np.ndarray) -> Rows:
    """Non-fitted devices: biometric check-ins at 10:00 and 18:00 local."""
    rng = ctx.rng
    who = np.flatnonzero(ctx.dev["NFD"] >= 0)
    parts = []
    for wall in (180.0, 660.0):
        due = wall_to_utc_us(ctx.day, np.full(len(who), wall))
        col = np.clip(
            ((due - ctx.track.t_us[who, 0]) // (ctx.interval_s * US)).astype(np.int64),
            0,
            ctx.track.t_us.shape[1] - 1,
        )
        prof = ctx.profile[who]
        missed = (
            (~alive[who, col])
            | (prof == "absconder") & (rng.random(len(who)) < 0.6)
            | (rng.random(len(who)) < 0.02)
        )
        fail = ~missed & (rng.random(len(who)) < 0.01)
        result = np.where(missed, 2, np.where(fail, 1, 0)).astype(np.int8)
        at = due + rng.integers(0, 15 * 60 * US, len(who))
        x, y = ctx.track.x[who, col], ctx.track.y[who, col]
        lat, lon = places.offset_to_lonlat(ctx.geo.home_lat[who], ctx.geo.home_lon[who], x, y)
        acc = rng.uniform(8, 30, len(who))
        dev = ctx.dev["NFD"][who]
        sent = alive[
            who, col
        ]  # a dead device cannot report a missed check-in; the centre notices the silence
        parts.append(rows("checkin", dev[sent], at[sent], result=result[sent], lat=np.where(missed, np.nan, np.round(lat, 7))[sent],
                          lon=np.where(missed, np.nan, np.round(lon, 7))[sent], accuracy_m=np.where(missed, np.nan, acc)[sent]))  # fmt: skip
        ctx.truth.add(
            "checkin_missed",
            True,
            who[missed],
            dev[missed],
            "checkin",
            due[missed],
            due[missed] + 15 * 60 * US,
        )
        ctx.truth.add(
            "checkin_failed",
            False,
            who[fail],
            dev[fail],
            "checkin",
            at[fail],
            at[fail] + US,
            "biometric_false_reject",
        )
        ctx.truth.alert("checkin", int(missed.sum() + fail.sum()), int(fail.sum()))
    return concat(parts)


def victim_rows(ctx: DayCtx) -> Rows:
    """The victim's device: a fix every 5 minutes at home (the exclusion zone's centre), indoors."""
    rng = ctx.rng
    who = np.flatnonzero(ctx.dev["VICTIM"] >= 0)
    every = max(1, 300 // ctx.interval_s)
    t = ctx.track.t_us[who][:, ::every]
    rr, cc = np.nonzero(rng.random(t.shape) > 0.2)
    acc = rng.uniform(20, 50, len(rr))
    zx, zy = ctx.geo.zone_xy[who[rr], 0], ctx.geo.zone_xy[who[rr], 1]
    ox, oy = (
        zx + rng.normal(0, 1, len(rr)) * acc / np.sqrt(2),
        zy + rng.normal(0, 1, len(rr)) * acc / np.sqrt(2),
    )
    lat, lon = places.offset_to_lonlat(ctx.geo.home_lat[who[rr]], ctx.geo.home_lon[who[rr]], ox, oy)
    return rows("gps", ctx.dev["VICTIM"][who][rr], t[rr, cc], lat=np.round(lat, 7), lon=np.round(lon, 7),
                accuracy_m=np.round(acc, 1), source="GPS")  # fmt: skip
