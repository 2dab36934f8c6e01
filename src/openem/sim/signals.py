"""What the devices observe on one simulated day, from the true tracks: GPS fixes (accuracy, indoor gaps,
multipath jumps), home-unit RF presence (range, dropouts), battery and charging, and the ground truth of
curfew, zone, inclusion and proximity violations. Vectorised over wearers x samples."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from openem.sim import places
from openem.sim.clock import US, frame_bounds_us, wall_to_utc_us
from openem.sim.movement import DayPlan, Track
from openem.sim.population import Geography
from openem.sim.rows import Rows, concat, rows, runs
from openem.sim.truth import TruthLog

AWAY_M = 50.0  # truly not at home: beyond the curtilage
GRACE_MIN = 5
LOW_BATTERY_PCT = 20.0
MULTIPATH_P = 0.0005
INDOOR_GAP_P = 0.25
BURST_INTERVAL_S = 15  # a GPS tag in violation reports this often (otherwise every sample)
RF_DROPOUT_P = 0.01  # per home-unit night


@dataclass
class DayCtx:
    rng: np.random.Generator
    day: date
    track: Track
    geo: Geography
    plan: DayPlan
    profile: np.ndarray  # profile names (object array)
    dev: dict[str, np.ndarray]  # device kind -> chunk device index per person (-1: none)
    has: dict[str, np.ndarray]  # feature -> bool per person (fitted only)
    truth: TruthLog
    interval_s: int


def curfew_mask(ctx: DayCtx) -> np.ndarray:
    cs = wall_to_utc_us(ctx.day, ctx.geo.curfew_start_min.astype(float))
    ce = wall_to_utc_us(ctx.day, ctx.geo.curfew_end_min.astype(float))
    t = ctx.track.t_us
    mask: np.ndarray = (t >= cs[:, None]) & (t < ce[:, None]) & ctx.has["curfew"][:, None]
    return mask


def _t_end(ctx: DayCtx, rows_idx: np.ndarray, end_idx: np.ndarray) -> np.ndarray:
    t_end: np.ndarray = (
        ctx.track.t_us[rows_idx, np.minimum(end_idx, ctx.track.t_us.shape[1] - 1)]
        + (end_idx >= ctx.track.t_us.shape[1]) * ctx.interval_s * US
    )
    return t_end


def curfew_truth(ctx: DayCtx, in_curfew: np.ndarray) -> None:
    away = np.hypot(ctx.track.x, ctx.track.y) > AWAY_M
    r, s, e = runs(away & in_curfew)
    keep = (e - s) * ctx.interval_s / 60 > GRACE_MIN
    r, s, e = r[keep], s[keep], e[keep]
    first = np.argmax(in_curfew, axis=1)
    last = in_curfew.shape[1] - 1 - np.argmax(in_curfew[:, ::-1], axis=1)
    dur = (e - s) * ctx.interval_s / 60
    late = (s == first[r]) & (dur <= 120)
    early = (e - 1 == last[r]) & ~late
    t = ctx.track.t_us
    dev = np.where(ctx.dev["HMU"][r] >= 0, ctx.dev["HMU"][r], ctx.dev["GPS_TAG"][r])
    for kind, m in (
        ("curfew_late_return", late),
        ("curfew_early_leave", early),
        ("curfew_absent", ~late & ~early),
    ):
        ctx.truth.add(kind, True, r[m], dev[m], "curfew", t[r[m], s[m]], _t_end(ctx, r[m], e[m]))


def zone_truth(ctx: DayCtx) -> None:
    g, t = ctx.geo, ctx.track
    dz = np.hypot(t.x - g.zone_xy[:, 0:1], t.y - g.zone_xy[:, 1:2])
    for kind, cond, mask in (
        ("exclusion_entry", "Z1", (dz < g.zone_r[:, None]) & ctx.has["exclusion"][:, None]),
        ("proximity", "proximity", (dz < 500) & ctx.has["victim"][:, None]),
        ("inclusion_exit", "I1", (np.hypot(t.x, t.y) > g.incl_r[:, None]) & ctx.has["inclusion"][:, None]),
    ):
        r, s, e = runs(mask)
        ctx.truth.add(kind, True, r, ctx.dev["GPS_TAG"][r], cond, t.t_us[r, s], _t_end(ctx, r, e))


def battery(
    ctx: DayCtx, kind: str, level: np.ndarray, drain_pct_h: float, charges: bool
) -> tuple[Rows, np.ndarray]:
    """Battery level per sample (carried across days in `level`); returns battery rows and the alive mask."""
    who = np.flatnonzero(ctx.dev[kind] >= 0)
    t = ctx.track.t_us[who]
    n, f = t.shape
    rng = ctx.rng
    charging = np.zeros((n, f), dtype=bool)
    if charges:
        nocharge = np.zeros(n, dtype=bool)
        for name, p in {"non_charger": 0.7, "compliant": 0.01}.items():
            nocharge |= (ctx.profile[who] == name) & (rng.random(n) < p)
        c0 = wall_to_utc_us(ctx.day, ctx.geo.curfew_start_min[who] + rng.uniform(30, 200, n))
        c1 = c0 + (np.asarray(rng.uniform(70, 150, n)) * 60 * US).astype(np.int64)
        charging = (t >= c0[:, None]) & (t < c1[:, None]) & ~nocharge[:, None]
    step_h = ctx.interval_s / 3600
    lv = np.empty((n, f))
    cur = level[who].copy()
    for k in range(f):  # one step per sample column, vectorised over devices (levels clip at 0 and 100)
        cur = np.clip(cur + np.where(charging[:, k], 70.0 * step_h, -drain_pct_h * step_h), 0, 100)
        lv[:, k] = cur
    level[who] = cur
    alive = lv > 0
    every = max(1, 1800 // ctx.interval_s)
    rr, cc = np.nonzero(alive & on_phase(ctx.dev[kind][who], f, every))
    out = rows(
        "battery",
        ctx.dev[kind][who][rr],
        t[rr, cc],
        level_pct=np.round(lv[rr, cc], 1),
        charging=charging[rr, cc],
    )
    r, s, e = runs(lv < LOW_BATTERY_PCT)
    ctx.truth.add(
        "low_battery",
        ctx.profile[who][r] == "non_charger",
        who[r],
        ctx.dev[kind][who][r],
        "device",
        t[r, s],
        _t_end(ctx, who[r], e),
    )
    r2, s2, e2 = runs(~alive)
    ctx.truth.add(
        "no_comms",
        False,
        who[r2],
        ctx.dev[kind][who][r2],
        "device",
        t[r2, s2],
        _t_end(ctx, who[r2], e2),
        "battery_dead",
    )
    ctx.truth.alert("low_battery", len(r))
    full_alive = np.ones(ctx.track.t_us.shape, dtype=bool)
    full_alive[who] = alive
    return out, full_alive


def gps_rows(ctx: DayCtx, alive: np.ndarray, in_curfew: np.ndarray | None = None) -> Rows:
    """GPS fixes: one per sample, plus the faster fixes of a tag whose wearer is in violation (`burst_rows`)."""
    tr, rng = ctx.track, ctx.rng
    who = np.flatnonzero(ctx.dev["GPS_TAG"] >= 0)
    x, y, t, moving = tr.x[who], tr.y[who], tr.t_us[who], tr.moving[who]
    keep, ox, oy, acc, source = _observe(ctx, who, t, x, y, moving, alive[who], rng)
    _naive_zone_alerts(ctx, who, ox, oy, keep, x, y)
    rr, cc = np.nonzero(keep)
    speed = np.where(
        moving[rr, cc],
        tr.speed[who][rr, cc] + rng.normal(0, 0.3, len(rr)),
        np.abs(rng.normal(0, 0.2, len(rr))),
    )
    base = _fix_rows(ctx, who[rr], t[rr, cc], ox[rr, cc], oy[rr, cc], acc[rr, cc], source[rr, cc], speed,
                     tr.heading[who][rr, cc])  # fmt: skip
    if in_curfew is None:
        return base
    return concat([base, burst_rows(ctx, who, alive[who], in_curfew[who])])


def _observe(
    ctx: DayCtx, who: np.ndarray, t: np.ndarray, x: np.ndarray, y: np.ndarray, moving: np.ndarray,
    alive: np.ndarray, rng: np.random.Generator,
) -> tuple[np.ndarray, ...]:  # fmt: skip
    """The GPS noise model over samples of any shape: indoor gaps, accuracy by source, a 1-sigma error,
    multipath jumps (recorded as device faults). Returns (keep, observed x, observed y, accuracy, source)."""
    shape = x.shape
    indoor = ~moving
    keep = alive & ~(indoor & (rng.random(shape) < INDOOR_GAP_P))
    u = rng.random(shape)
    source = np.where(indoor & (u < 0.01), 1, np.where(indoor & (u < 0.11), 2, 0))
    acc = np.where(moving, rng.lognormal(np.log(5.0), 0.3, shape), rng.uniform(20, 50, shape))
    acc = np.where(
        source == 2, rng.uniform(15, 40, shape), np.where(source == 1, rng.uniform(100, 500, shape), acc)
    )
    sigma = acc / np.sqrt(2)  # accuracy is a 1-sigma radius: per-axis sigma = r / sqrt(2)
    ox = x + rng.normal(0, 1, shape) * sigma
    oy = y + rng.normal(0, 1, shape) * sigma
    jump = (source == 0) & (rng.random(shape) < MULTIPATH_P) & keep
    jd, ja = rng.uniform(150, 500, shape), rng.uniform(0, 2 * np.pi, shape)
    ox = np.where(jump, ox + jd * np.cos(ja), ox)
    oy = np.where(jump, oy + jd * np.sin(ja), oy)
    acc = np.where(jump, rng.uniform(8, 25, shape), acc)
    j = np.nonzero(jump)
    jw = who[j[0]] if len(shape) == 2 else who[jump]
    ctx.truth.add(
        "device_fault", False, jw, ctx.dev["GPS_TAG"][jw], "trail", t[j], t[j] + US, "gps_multipath"
    )
    return keep, ox, oy, acc, source


def _fix_rows(
    ctx: DayCtx, person: np.ndarray, t: np.ndarray, ox: np.ndarray, oy: np.ndarray, acc: np.ndarray,
    source: np.ndarray, speed: np.ndarray, heading: np.ndarray,
) -> Rows:  # fmt: skip
    g = ctx.geo
    lat, lon = places.offset_to_lonlat(g.home_lat[person], g.home_lon[person], ox, oy)
    return rows(
        "gps",
        ctx.dev["GPS_TAG"][person],
        t,
        lat=np.round(lat, 7),
        lon=np.round(lon, 7),
        accuracy_m=np.round(acc, 1),
        hdop=np.round(np.clip(acc / 5, 0.7, 20), 1),
        speed_mps=np.round(np.maximum(speed, 0), 2),
        heading_deg=np.round(heading, 1),
        source=source.astype(np.int8),
    )


def burst_rows(ctx: DayCtx, who: np.ndarray, alive: np.ndarray, in_curfew: np.ndarray) -> Rows:
    """A tag whose wearer breaks a condition reports faster (device-side geofence): while truly inside the
    exclusion zone, or away from home during curfew, every sample gains fixes at +15, +30 and +45 s between
    it and the next one, on the true path between the two, with the same noise model. Drawn from a child of
    the day's generator so the rest of the day (and every other wearer's telemetry) is unchanged."""
    g, tr = ctx.geo, ctx.track
    x, y, t = tr.x[who], tr.y[who], tr.t_us[who]
    in_zone = np.hypot(x - g.zone_xy[who, 0:1], y - g.zone_xy[who, 1:2]) < g.zone_r[who, None]
    breaking = (in_zone & ctx.has["exclusion"][who, None]) | ((np.hypot(x, y) > AWAY_M) & in_curfew)
    r, c = np.nonzero(breaking)
    per = max(0, ctx.interval_s // BURST_INTERVAL_S - 1)
    if per == 0 or len(r) == 0:
        return concat([])
    k = np.tile(np.arange(1, per + 1), len(r))
    r, c = np.repeat(r, per), np.repeat(c, per)
    nxt = np.minimum(c + 1, t.shape[1] - 1)
    frac = k * BURST_INTERVAL_S / ctx.interval_s
    tb = t[r, c] + k * BURST_INTERVAL_S * US
    _, frame_end = frame_bounds_us(ctx.day)
    inside = tb < frame_end
    r, c, nxt, frac, tb = r[inside], c[inside], nxt[inside], frac[inside], tb[inside]
    bx = x[r, c] + frac * (x[r, nxt] - x[r, c])
    by = y[r, c] + frac * (y[r, nxt] - y[r, c])
    moving = tr.moving[who][r, c]
    rng = ctx.rng.spawn(1)[0]
    keep, ox, oy, acc, source = _observe(ctx, who[r], tb, bx, by, moving, alive[r, c], rng)
    speed = np.where(
        moving, tr.speed[who][r, c] + rng.normal(0, 0.3, len(r)), np.abs(rng.normal(0, 0.2, len(r)))
    )
    s = keep
    return _fix_rows(
        ctx, who[r][s], tb[s], ox[s], oy[s], acc[s], source[s], speed[s], tr.heading[who][r, c][s]
    )


def _naive_zone_alerts(
    ctx: DayCtx,
    who: np.ndarray,
    ox: np.ndarray,
    oy: np.ndarray,
    keep: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
) -> None:
    """Naive rule: every observed entry into an exclusion zone is an alert; false when truly outside."""
    g = ctx.geo
    zx, zy, zr = g.zone_xy[who, 0:1], g.zone_xy[who, 1:2], g.zone_r[who, None]
    has = ctx.has["exclusion"][who, None]
    obs_in = (np.hypot(ox - zx, oy - zy) < zr) & has
    # the rule sees only received fixes: carry the last received fix's state over gaps
    last = np.maximum.accumulate(np.where(keep, np.arange(keep.shape[1])[None, :], 0), axis=1)
    state = np.take_along_axis(obs_in, last, axis=1) & keep[:, :1].any(axis=1, keepdims=True)
    true_in = np.hypot(x - zx, y - zy) < zr
    r, s, _ = runs(state)
    ctx.truth.alert("exclusion_entry", len(r), int((~true_in[r, s]).sum()))


def rf_rows(ctx: DayCtx, in_curfew: np.ndarray) -> Rows:
    g, tr, rng = ctx.geo, ctx.track, ctx.rng
    who = np.flatnonzero(ctx.dev["HMU"] >= 0)
    dist = np.hypot(tr.x[who], tr.y[who])
    n, f = dist.shape
    present = dist < g.rf_range[who, None]
    # dropouts: the unit misses a present tag for a few minutes during the night (a false absence)
    drop = rng.random(n) < RF_DROPOUT_P
    cur = in_curfew[who]
    start = np.where(cur.any(axis=1), np.argmax(cur, axis=1), 0) + rng.integers(0, 400, n)
    length = rng.integers(2, 20, n)
    cols = np.arange(f)[None, :]
    dmask = drop[:, None] & (cols >= start[:, None]) & (cols < (start + length)[:, None]) & present & cur
    r, s, e = runs(dmask)
    t = tr.t_us[who]
    tags = np.where(ctx.dev["RF_TAG"][who] >= 0, ctx.dev["RF_TAG"][who], ctx.dev["GPS_TAG"][who])
    ctx.truth.add(
        "device_fault",
        False,
        who[r],
        ctx.dev["HMU"][who][r],
        "curfew",
        t[r, s],
        _t_end(ctx, who[r], e),
        "rf_dropout",
    )
    seen = present & ~dmask
    change = np.ones((n, f), dtype=bool)
    change[:, 1:] = seen[:, 1:] != seen[:, :-1]
    ar, a_s, _ = runs(~seen & cur)  # naive rule: each spell of absence during curfew is an alert
    ctx.truth.alert("curfew", len(ar), int(dmask[ar, a_s].sum()))
    rr, cc = np.nonzero(change)
    on = seen[rr, cc]
    rssi = np.where(on, -45 - 25 * np.log10(np.maximum(dist[rr, cc], 1)) + rng.normal(0, 2, len(rr)), np.nan)
    out = rows(
        "rf",
        ctx.dev["HMU"][who][rr],
        t[rr, cc] + rng.integers(0, 20 * US, len(rr)),
        present=on,
        rssi_dbm=np.round(rssi, 1),
    )
    out["tag"] = tags[rr]
    return out


def on_phase(device: np.ndarray, columns: int, every: int) -> np.ndarray:
    """(devices x columns) mask: each device reports once every `every` sample columns, at its own phase within
    the period, as real devices do (their clocks started when they were switched on). Every device reporting in
    the same column made a 7x spike at the top of each hour. The phase comes from the device number (a
    multiplicative hash), not the random stream, so a world stays the same for its seed."""
    phase = (device.astype(np.int64) * 2654435761) % 2**32 % every
    mask: np.ndarray = (np.arange(columns)[None, :] % every) == phase[:, None]
    return mask


def heartbeat_rows(ctx: DayCtx, kind: str, alive: np.ndarray | None = None) -> Rows:
    who = np.flatnonzero(ctx.dev[kind] >= 0)
    t = ctx.track.t_us[who]
    every = max(1, 3600 // ctx.interval_s)
    ok = on_phase(ctx.dev[kind][who], t.shape[1], every) & (alive[who] if alive is not None else True)
    rr, cc = np.nonzero(np.broadcast_to(ok, t.shape))
    return rows("heartbeat", ctx.dev[kind][who][rr], t[rr, cc])


def hmu_power_rows(ctx: DayCtx) -> Rows:
    """Mains power cuts at the home unit (it runs on its battery and says so): a technical event."""
    rng = ctx.rng
    who = np.flatnonzero((ctx.dev["HMU"] >= 0) & (rng.random(len(ctx.dev["HMU"])) < 0.005))
    t0 = ctx.track.t_us[who, 0] + (rng.uniform(0, 23, len(who)) * 3600 * US).astype(np.int64)
    t1 = t0 + (rng.uniform(10, 180, len(who)) * 60 * US).astype(np.int64)
    t1 = np.minimum(
        t1, ctx.track.t_us[who, -1]
    )  # power returns by the end of the day simulated, not after it
    dev = ctx.dev["HMU"][who]
    ctx.truth.add("device_fault", False, who, dev, "device", t0, t1, "mains_power_loss")
    off = rows("hmu_power", dev, t0, mains=np.zeros(len(who), dtype=np.int8))
    on = rows("hmu_power", dev, t1, mains=np.ones(len(who), dtype=np.int8))
    return {k: np.concatenate([off[k], on[k]]) for k in off}
