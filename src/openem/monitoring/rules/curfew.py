"""Curfew: at the curfew address during the timetable, from RF presence or GPS near the address.

Each timetable slot (and the release day) names its address; an order keeps a presence timeline per
address (a sorted list of observations `[t, present, device_id, seq]`), fed by the home unit at that address
or, where there is none, by GPS fixes near it, and each window is judged on its own address's timeline. A curfew window is
evaluated as a whole (pure `evaluate_window`): absence segments longer than the grace period become
late return (absent at the start, back later), early leave (leaves and is still out at the end), absence
(out and back in the middle) or absent for the whole period. Windows come from the Europe/London timetable
through `local_to_utc`, so DST nights are one hour shorter or longer, never wrong.

With no home unit, presence comes from GPS: `at_home` is the vectorised kernel the engine runs over a batch
of fixes, `at_home_one` its oracle for one fix.
"""

from __future__ import annotations

import bisect
import math
from datetime import date, time, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from openem.core.time import local_to_utc
from openem.monitoring.model import local_day, place_keys, slots_key, windows_for_slots_cached

#: Accumulated Time Violation: lateness beyond grace summed over an order's nights reached the policy's limit
ATV_KIND = "atv_threshold_reached"
#: the grace after a window's start passed with the wearer away (an episode open until they return)
NOT_HOME_KIND = "curfew_not_home"

SPAN_DAYS = 3  # local days of windows computed ahead at a time per curfew


@lru_cache(maxsize=8192)
def _span(
    key: tuple[tuple[str | None, str, str], ...], d0: date, d1: date
) -> tuple[tuple[float, float], ...]:
    """Windows of a timetable whose start falls on the local days d0..d1, sorted, not clipped. Shared by
    every order with that timetable (most share a handful)."""
    wins: set[tuple[float, float]] = set()
    day = d0
    while day <= d1:
        wins.update(windows_for_slots_cached(key, day))
        day += timedelta(days=1)
    return tuple(sorted(wins))


def _place_keys(curfew: dict[str, Any]) -> tuple[tuple[tuple[str | None, str, str], ...], ...]:
    """Per curfew address (place), its timetable in `slots_key` form (parse_order sets it on the spec)."""
    keys = curfew.get("_place_keys")
    if keys is None:  # a spec not made by parse_order
        keys = curfew["_place_keys"] = place_keys(curfew["slots"], curfew.get("slot_place"))
    return keys


@lru_cache(maxsize=8192)
def _placed_span(keys: tuple[tuple[tuple[str | None, str, str], ...], ...], d0: date, d1: date
                 ) -> tuple[tuple[float, float, int], ...]:  # fmt: skip
    """`_span` of each place's timetable, as sorted (start, end, place): shared by every order with them."""
    if len(keys) == 1:
        return tuple((s, e, 0) for s, e in _span(keys[0], d0, d1))
    return tuple(sorted({(s, e, place) for place, key in enumerate(keys) for s, e in _span(key, d0, d1)}))


def _windows(curfew: dict[str, Any], d0: date, d1: date) -> list[tuple[float, float, int]]:
    """The curfew's own windows for days d0..d1 as (start, end, place): its timetable's, each at its slot's
    address, with the release day's slot on the first day and everything clipped to the curfew's start and
    end."""
    c_start, c_end = curfew["start"], curfew["end"]
    wins = list(_placed_span(_place_keys(curfew), d0, d1))
    release, first_day = curfew.get("release_day"), local_day(c_start)
    if release and d0 <= first_day <= d1:
        here = curfew.get("release_place", 0)
        wins = [w for w in wins if local_day(w[0]) != first_day]
        wins = sorted(
            {*wins, *((s, e, here) for s, e in windows_for_slots_cached(slots_key([release]), first_day))}
        )
    if wins and (wins[0][0] < c_start or max(w[1] for w in wins) > c_end):
        wins = [(max(s, c_start), min(e, c_end), p) for s, e, p in wins]
        wins = sorted({w for w in wins if w[0] < w[1]})
    return wins


def _table(curfew: dict[str, Any], lo_day: date, hi_day: date) -> dict[str, Any]:
    """The curfew's windows for a span of local days covering [lo_day, hi_day], sorted, cached on the spec
    (immutable once parsed): a window is looked up by bisection instead of rebuilt from the timetable. The
    span grows a few days at a time as time passes, and starts afresh when it has moved far."""
    tab: dict[str, Any] | None = curfew.get("_table")
    if tab is not None and tab["d0"] <= lo_day and hi_day <= tab["d1"]:
        return tab
    if tab is None or abs((lo_day - tab["d0"]).days) > 4 * SPAN_DAYS:
        # a margin on both sides: the next query usually looks a day or two further back or ahead
        d0, d1 = lo_day - timedelta(days=2), max(hi_day, lo_day) + timedelta(days=SPAN_DAYS)
    else:
        d0 = min(lo_day, tab["d0"])
        d1 = max(hi_day, tab["d1"] + timedelta(days=SPAN_DAYS)) if hi_day > tab["d1"] else tab["d1"]
    ordered = _windows(curfew, d0, d1)
    tab = curfew["_table"] = {"d0": d0, "d1": d1, "wins": ordered, "starts": [w[0] for w in ordered],
                              "longest": max((e - s for s, e, _ in ordered), default=0.0),
                              # the UTC instants between which a query needs no calendar arithmetic
                              "t_lo": _midnight(d0 + timedelta(days=1)), "t_hi": _midnight(d1 + timedelta(days=1))}  # fmt: skip
    return tab


def _midnight(day: date) -> float:
    return local_to_utc(day, time(0, 0)).timestamp()


def _table_for(curfew: dict[str, Any], lo: float, hi: float) -> dict[str, Any]:
    """The window table covering UTC instants [lo, hi] and the local day before lo."""
    tab: dict[str, Any] | None = curfew.get("_table")
    if tab is not None and tab["t_lo"] <= lo and hi < tab["t_hi"]:
        return tab
    return _table(curfew, local_day(lo) - timedelta(days=1), local_day(hi))


def placed_windows(curfew: dict[str, Any], lo: float, hi: float) -> list[tuple[float, float, int]]:
    """Curfew windows (UTC seconds, and the place: which of the curfew's addresses) overlapping [lo, hi],
    clipped to the curfew's start and end."""
    lo, hi = max(lo, curfew["start"]), min(hi, curfew["end"])
    if lo > hi:
        return []
    tab = _table_for(curfew, lo, hi)
    i = bisect.bisect_left(tab["starts"], lo - tab["longest"])
    j = bisect.bisect_right(tab["starts"], hi)
    return [w for w in tab["wins"][i:j] if w[1] >= lo]


def curfew_windows(curfew: dict[str, Any], lo: float, hi: float) -> list[tuple[float, float]]:
    """Curfew windows (UTC seconds) overlapping [lo, hi], clipped to the curfew's start and end."""
    return [(s, e) for s, e, _ in placed_windows(curfew, lo, hi)]


def next_window(curfew: dict[str, Any], after: float) -> tuple[float, float] | None:
    """The first window (by start) that ends after `after`, within a week; None if none."""
    for days in (2, 8):  # most curfews have a window every day: look two days ahead before a week
        w = _next_within(curfew, after, days)
        if w is not None:
            return w
    return None


def _next_within(curfew: dict[str, Any], after: float, horizon_days: int) -> tuple[float, float] | None:
    lo = max(after, curfew["start"])
    hi = min(after + horizon_days * 86400, curfew["end"])
    if lo > hi:
        return None
    tab = _table_for(curfew, lo, hi)
    i = bisect.bisect_left(tab["starts"], lo - tab["longest"])
    for w in tab["wins"][i:]:
        if w[0] > hi:
            return None
        if w[1] > after and w[1] >= lo:
            return (float(w[0]), float(w[1]))
    return None


def at_home_one(x: float, y: float, hx: float, hy: float, acc: float, th: dict[str, Any]) -> bool:
    """Is a GPS fix at the curfew address: within `gps_home_radius_m` of it, give or take the fix's
    accuracy (capped at `gps_max_accuracy_m`)?"""
    return bool(math.hypot(x - hx, y - hy) <= th["gps_home_radius_m"] + min(acc, th["gps_max_accuracy_m"]))


def at_home(x: NDArray[np.float64], y: NDArray[np.float64], hx: NDArray[np.float64], hy: NDArray[np.float64],
            acc: NDArray[np.float64], th: dict[str, Any]) -> NDArray[np.bool_]:  # fmt: skip
    """`at_home_one` for a batch of fixes, each against its own order's address."""
    result: NDArray[np.bool_] = np.hypot(x - hx, y - hy) <= th["gps_home_radius_m"] + np.minimum(
        acc, th["gps_max_accuracy_m"]
    )
    return result


def _by_place(state: dict[str, Any], curfew: dict[str, Any]) -> dict[str, list[list[Any]]]:
    by_place = state.get("cf_obs")
    if not isinstance(by_place, dict):  # a checkpoint from before split addresses: one timeline, the main one
        by_place = state["cf_obs"] = {place_name(curfew, 0): by_place} if by_place else {}
    return by_place


def timelines(state: dict[str, Any], curfew: dict[str, Any]) -> list[list[list[Any]]]:
    """An order's presence timelines, one per curfew address (place), kept by address type: a variation that
    moves a slot keeps each address's history. A place made of several addresses (a slot judged at any of
    them, `place_members`) gets a `Merged` timeline built from theirs: only the single addresses are stored."""
    by_place = _by_place(state, curfew)
    names = curfew.get("places") or ("PRIMARY",)
    members = curfew.get("place_members")
    if not members:
        return [by_place.setdefault(name, []) for name in names]
    out: list[list[list[Any]]] = []
    for name, group in zip(names, members, strict=True):
        # the single addresses come first, so a group's members are already in `out`
        out.append(by_place.setdefault(name, []) if len(group) == 1 else Merged([out[m] for m in group]))
    return out


def observations(state: dict[str, Any], curfew: dict[str, Any], place: int) -> list[list[Any]]:
    """The presence timeline at one of an order's curfew addresses (a single one: GPS and home units feed
    the addresses, never a place made of several)."""
    return _by_place(state, curfew).setdefault(place_name(curfew, place), [])


class Merged(list[list[Any]]):
    """Presence at any of several curfew addresses, from their own timelines: home while the last reading at
    one of them says home. Built when a window is judged and never written to; `members` keeps the
    addresses' timelines for judging on what had been received by a time (`away_since_start`)."""

    def __init__(self, members: list[list[list[Any]]]) -> None:
        super().__init__(merge(members))
        self.members = members


def merge(members: list[list[list[Any]]], cut: float | None = None) -> list[list[Any]]:
    """One timeline from several addresses' timelines: an observation at each instant where being at any of
    them changes (the reading that changed it as evidence). `cut`: only readings made and received by then.
    As at one address, presence is unknown before an address's first reading: the merged timeline says home
    as soon as one address does, and away only once every address has been heard from. An address never
    heard from (no home unit, GPS or coordinates there) cannot be judged and is left out."""
    heard = [
        [o for o in obs if o[0] <= cut and (o[4] if len(o) > 4 else o[0]) <= cut] if cut is not None else obs
        for obs in members
    ]
    live = [obs for obs in heard if obs]
    readings = sorted((o[0], j, o) for j, obs in enumerate(live) for o in obs)
    state: list[int | None] = [None] * len(live)
    out: list[list[Any]] = []
    k = 0
    while k < len(readings):
        t, now = readings[k][0], []
        while k < len(readings) and readings[k][0] == t:  # readings at one instant count together
            _, j, o = readings[k]
            state[j] = int(o[1])
            now.append(o)
            k += 1
        here = 1 if 1 in state else 0 if None not in state else None
        if here is not None and (not out or out[-1][1] != here):
            by = next((o for o in reversed(now) if int(o[1]) == here), now[-1])  # the reading that says so
            out.append([t, here, by[2], by[3], max(float(o[4]) if len(o) > 4 else t for o in now)])
    return out


def place_name(curfew: dict[str, Any], place: int) -> str:
    places = curfew.get("places") or ["PRIMARY"]
    return str(places[place])


class Places(NamedTuple):
    """Where the hot path finds curfew presence, per index: `home[order code, place]` is the BNG point GPS
    presence is judged at (NaN where a home unit covers that address, or it has no coordinates), `gps` its
    mask, `gps_any[order code]` whether GPS judges any of them, and `act_place[activation]` the place a home
    unit reports for (-1: none)."""

    home: np.ndarray
    gps: np.ndarray
    gps_any: np.ndarray
    act_place: np.ndarray


def places_table(orders: dict[str, Any], acts: list[Any], refs: list[str]) -> Places:
    """The curfew addresses of every order, for the GPS and RF presence paths. A home unit reports presence
    at the address its activation names (blank: the curfew's main address); an RF tag goes with the main
    address's unit. GPS judges every curfew address no home unit covers."""
    act_place = np.full(len(acts), -1, dtype=np.int64)
    covered: dict[str, set[int]] = {}
    for i, a in enumerate(acts):
        cf = getattr(orders.get(a.order_ref), "curfew", None)
        if not cf or a.device_kind not in ("HMU", "RF_TAG"):
            continue
        places = cf.get("places") or ["PRIMARY"]
        named = a.address_type if a.device_kind == "HMU" else ""
        place = places.index(named) if named in places else (0 if not named else -1)
        act_place[i] = place
        if place >= 0:
            covered.setdefault(a.order_ref, set()).add(place)
    width = max([len(o.curfew.get("place_xy") or [None]) for o in orders.values() if o.curfew] or [1])
    home = np.full((len(refs), width, 2), np.nan)
    for k, ref in enumerate(refs):
        o = orders.get(ref)
        if o is None or not o.curfew:
            continue
        for place, xy in enumerate(o.curfew.get("place_xy") or [o.curfew.get("home_xy")]):
            if xy is not None and place not in covered.get(ref, ()):
                home[k, place] = xy
    gps = ~np.isnan(home[:, :, 0])
    return Places(home, gps, gps.any(axis=1), act_place)


def add_observation(obs: list[list[Any]], t: float, present: bool, device_id: str, seq: int,
                    rx: float | None = None) -> None:  # fmt: skip
    """Insert an observation in time order (late data lands in its place). Each keeps its receive time
    (`rx`, 5th item): the in-progress judgement at a window's grace uses only what had been received by then."""
    item = [t, 1 if present else 0, device_id, int(seq), float(t if rx is None or rx != rx else rx)]
    if not obs or obs[-1][0] <= t:
        obs.append(item)
    else:
        bisect.insort(obs, item, key=lambda o: o[0])


def evaluate_window(obs: list[list[Any]], start: float, end: float, grace_s: float, final: bool
                    ) -> list[dict[str, Any]]:  # fmt: skip
    """Violations in one window: [{kind, start, end, minutes, evidence}] (pure; re-evaluation is safe)."""
    i = bisect.bisect_right([o[0] for o in obs], start)
    before = obs[i - 1] if i > 0 else None
    inside = [o for o in obs[i:] if o[0] < end]
    present_seen = any(o[1] for o in inside) or bool(before and before[1])
    # Before the home unit's first reading presence is unknown, not "present": in an order's first window
    # the first readings decide it (a first reading "out of range" means away since the start).
    first_out = before is None and bool(inside) and inside[0][1] == 0
    absent_at_start = (before is not None and before[1] == 0) or first_out
    if not inside and before is None:
        return []  # no data at all: the no-communication rule speaks, not the curfew
    if final and not present_seen:
        ev = ([before] if before else []) + inside
        return [{"kind": "curfew_absent", "start": start, "end": end, "minutes": (end - start) / 60,
                 "evidence": [(o[2], o[3]) for o in ev[:10]]}]  # fmt: skip
    out: list[dict[str, Any]] = []
    seg_start = start if absent_at_start else None
    seg_ev = [before] if absent_at_start and before else [inside[0]] if first_out else []
    for o in inside:
        if o[1] == 0 and seg_start is None:
            seg_start, seg_ev = o[0], [o]
        elif o[1] == 1 and seg_start is not None:
            if o[0] - seg_start > grace_s:
                kind = "curfew_late_return" if seg_start == start else "curfew_absence"
                out.append({"kind": kind, "start": seg_start, "end": o[0], "minutes": (o[0] - seg_start) / 60,
                            "evidence": [(e[2], e[3]) for e in [*seg_ev, o]]})  # fmt: skip
            seg_start, seg_ev = None, []
    if seg_start is not None and final and end - seg_start > grace_s:
        out.append({"kind": "curfew_early_leave", "start": seg_start, "end": end, "minutes": (end - seg_start) / 60,
                    "evidence": [(e[2], e[3]) for e in seg_ev]})  # fmt: skip
    return out


def prune(obs: list[list[Any]], before: float) -> None:
    """Drop observations older than `before`, keeping the last one (it is the state at any later start)."""
    i = bisect.bisect_left([o[0] for o in obs], before)
    if i > 1:
        del obs[: i - 1]


def away_since_start(obs: list[list[Any]], start: float, cut: float) -> list[Any] | None:
    """Was the wearer away at `cut` (a window's start + grace), on what had been *received* by `cut`? The
    observation showing them away since the start (the last before it, or in a first window the first
    reading in it) when nothing received by then says they are back; else None. Judged on receive time (as a
    check-in is, decision 0010), the answer is the same however the data was batched and whenever the engine
    looks; data stored on a unit and forwarded later cannot change it (the episode it opens can still close
    `not_confirmed`)."""
    members = getattr(obs, "members", None)
    if members is not None:  # several addresses: each one's readings received by then, merged
        obs = merge(members, cut)
    seen = [o for o in obs if (o[4] if len(o) > 4 else o[0]) <= cut and o[0] <= cut]
    i = bisect.bisect_right([o[0] for o in seen], start)
    before = seen[i - 1] if i > 0 else None
    inside = seen[i:]
    if before is not None:
        first = before if before[1] == 0 else None
    else:
        first = inside[0] if inside and inside[0][1] == 0 else None
    if first is None or any(o[1] for o in inside):
        return None
    return first


def back_since(obs: list[list[Any]], start: float, now: float) -> float | None:
    """On everything known now: when the wearer was seen home since the window's start (the start itself
    when the last reading before it said home), or None."""
    i = bisect.bisect_right([o[0] for o in obs], start)
    before = obs[i - 1] if i > 0 else None
    if before is not None and before[1] == 1:
        return start
    return next((float(o[0]) for o in obs[i:] if o[0] <= now and o[1]), None)
