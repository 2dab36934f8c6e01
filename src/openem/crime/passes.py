"""Passes (A1, A2, B1, ...) from candidate trails, column by column: the matcher's rows for every (crime, wearer)
candidate arrive as Arrow columns sorted by candidate and time; runs of positions at the scene, split where the
trail has a gap, are found with NumPy over the whole batch at once. Python touches only the passes (a few per
candidate), never a position: the positions shown as evidence become dicts only when a trail is read (`Trails`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
#: a trail's columns as the matcher selects them, and the name each has in a trail's dicts (evidence)
TRAIL_FIELDS = {"person_id": "person_id", "device_id": "device_id", "t_us": "time", "lat": "lat", "lon": "lon",
                "accuracy_m": "accuracy_m", "speed_mps": "speed_mps", "heading_deg": "heading_deg",
                "dist_m": "distance_m", "near": "near"}  # fmt: skip


@dataclass
class Pass:
    label: str
    person_id: str
    device_id: str
    first_seen: datetime
    last_seen: datetime
    closest_m: float
    closest_accuracy_m: float
    positions: int
    entry_bearing: str
    exit_bearing: str
    confidence: str
    minutes_inside: float


def from_us(us: int | None) -> datetime | None:
    """An instant given as microseconds since 1970 (DuckDB converts TIMESTAMPTZ to Python ~20x slower)."""
    return None if us is None else EPOCH + timedelta(microseconds=us)


def letter(i: int) -> str:
    """A, B, ..., Z, AA, AB, ... for the i-th wearer of a crime."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def bearing(a: dict[str, Any], b: dict[str, Any]) -> str:
    la1, la2 = math.radians(a["lat"]), math.radians(b["lat"])
    dl = math.radians(b["lon"] - a["lon"])
    y = math.sin(dl) * math.cos(la2)
    x = math.cos(la1) * math.sin(la2) - math.sin(la1) * math.cos(la2) * math.cos(dl)
    if abs(x) < 1e-12 and abs(y) < 1e-12:
        return ""
    deg = (math.degrees(math.atan2(y, x)) + 360) % 360
    return COMPASS[int((deg + 22.5) // 45) % 8]


class Trails(Mapping[str, list[dict[str, Any]]]):
    """A crime's candidate trails (device -> its positions as dicts, in time order), read from the batch's shared
    Arrow rows only when asked for: the positions of a run are built as Python objects for evidence, not to
    match."""

    def __init__(self, rows: pa.Table, spans: dict[str, tuple[int, int]]):
        self._rows, self._spans = rows, spans

    def __getitem__(self, device: str) -> list[dict[str, Any]]:
        a, b = self._spans[device]
        part = self._rows.slice(a, b - a)
        cols = {TRAIL_FIELDS[n]: part.column(n).to_pylist() for n in TRAIL_FIELDS if n != "t_us"}
        cols["time"] = [from_us(int(us)) for us in part.column("t_us").to_numpy()]
        cols["near"] = [bool(x) for x in cols["near"]]
        names = list(TRAIL_FIELDS.values())
        return [dict(zip(names, vals, strict=True)) for vals in zip(*(cols[n] for n in names), strict=True)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._spans)

    def __len__(self) -> int:
        return len(self._spans)


@dataclass
class Runs:
    """Every pass of a batch as arrays (index: the pass): its first and last row, its closest row, the rows before
    and after it in the same trail (-1: none) and its trail (group)."""

    first: np.ndarray[Any, Any]
    last: np.ndarray[Any, Any]
    closest: np.ndarray[Any, Any]
    before: np.ndarray[Any, Any]
    after: np.ndarray[Any, Any]
    group: np.ndarray[Any, Any]


def find_runs(group: np.ndarray[Any, Any], t_us: np.ndarray[Any, Any], near: np.ndarray[Any, Any],
              dist: np.ndarray[Any, Any], max_gap: float) -> Runs:  # fmt: skip
    """Runs of consecutive positions at the scene within each trail (rows sorted by group, then time), a run
    ending where the trail has a gap longer than `max_gap` seconds; the closest row is the run's first at its
    least distance."""
    n = len(group)
    new_group = np.ones(n, bool)
    new_group[1:] = group[1:] != group[:-1]
    gap = np.zeros(n, bool)
    gap[1:] = np.diff(t_us) / 1e6 > max_gap
    gap &= ~new_group
    cut = new_group | gap  # a run cannot continue across this row's start
    prev_near = np.zeros(n, bool)
    prev_near[1:] = near[:-1]
    first = np.flatnonzero(near & (cut | ~prev_near))
    next_cut = np.ones(n, bool)
    next_cut[:-1] = cut[1:]
    next_near = np.zeros(n, bool)
    next_near[:-1] = near[1:]
    last = np.flatnonzero(near & (next_cut | ~next_near))
    lengths = last - first + 1
    run_of = np.repeat(np.arange(len(first)), lengths)
    rows = np.arange(int(lengths.sum())) - np.repeat(np.cumsum(lengths) - lengths, lengths) + first[run_of]
    d = dist[rows]
    least = np.minimum.reduceat(d, np.cumsum(lengths) - lengths) if len(first) else d
    hit = np.flatnonzero(d == least[run_of])
    _, at = np.unique(run_of[hit], return_index=True)
    closest = rows[hit[at]]
    before = np.where(new_group[first], -1, first - 1)
    after = np.where(_ends_group(new_group, last), -1, last + 1)
    return Runs(first, last, closest, before, after, group[first])


def _ends_group(new_group: np.ndarray[Any, Any], rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Whether each row is its group's last (the next row starts another group, or there is none)."""
    nxt = rows + 1
    return np.asarray((nxt >= len(new_group)) | new_group[np.minimum(nxt, len(new_group) - 1)])


def numbers_within(group: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """1, 2, ... for each run within its trail (runs in row order: a trail's runs are consecutive)."""
    new = np.ones(len(group), bool)
    new[1:] = group[1:] != group[:-1]
    return np.asarray(np.arange(len(group)) - np.flatnonzero(new)[np.cumsum(new) - 1] + 1)


def confidence(
    closest_m: float, accuracy_m: float, gap_in: float, gap_out: float, pol: dict[str, Any]
) -> str:
    """High: within the radius, accurate, sampled either side; low: far and vague, or a gap either side."""
    radius, max_gap = float(pol["radius_m"]), float(pol["max_gap_s"])
    if closest_m <= radius and accuracy_m <= 50 and max(gap_in, gap_out) <= max_gap:
        return "high"
    if closest_m > radius and accuracy_m > 100 or max(gap_in, gap_out) > max_gap:
        return "low"
    return "medium"


def make_passes(rows: pa.Table, runs: Runs, labels: list[str], pol: dict[str, Any]) -> list[Pass]:
    """One `Pass` per run, labelled in order (`labels[i]` the i-th run's): scalars per run, read once per column."""
    col = {n: rows.column(n) for n in ("t_us", "lat", "lon", "dist_m", "accuracy_m")}
    t, lat, lon = (col[n].to_numpy() for n in ("t_us", "lat", "lon"))
    f, la, c, bf, af = runs.first, runs.last, runs.closest, runs.before, runs.after
    firsts = rows.select(["person_id", "device_id"]).take(pa.array(f))
    people, devices = firsts.column("person_id").to_pylist(), firsts.column("device_id").to_pylist()
    tf, tl = t[f].tolist(), t[la].tolist()
    tb = np.where(bf >= 0, t[np.maximum(bf, 0)], 0).tolist()
    ta = np.where(af >= 0, t[np.maximum(af, 0)], 0).tolist()
    dist = col["dist_m"].take(pa.array(c)).to_pylist()
    acc = col["accuracy_m"].take(pa.array(c)).to_pylist()

    def at(i: int) -> dict[str, float]:
        return {"lat": float(lat[i]), "lon": float(lon[i])}

    out: list[Pass] = []
    for i, label in enumerate(labels):
        b, a = int(bf[i]), int(af[i])
        gap_in = (tf[i] - tb[i]) / 10**6 if b >= 0 else math.inf
        gap_out = (ta[i] - tl[i]) / 10**6 if a >= 0 else math.inf
        first_seen, last_seen = from_us(tf[i]), from_us(tl[i])
        assert first_seen is not None and last_seen is not None
        out.append(Pass(
            label=label, person_id=str(people[i]), device_id=str(devices[i]), first_seen=first_seen,
            last_seen=last_seen, closest_m=round(float(dist[i]), 1), closest_accuracy_m=round(float(acc[i]), 1),
            positions=int(la[i] - f[i] + 1),
            entry_bearing=bearing(at(b), at(int(f[i]))) if b >= 0 else "",
            exit_bearing=bearing(at(int(la[i])), at(a)) if a >= 0 else "",
            confidence=confidence(float(dist[i]), float(acc[i]), gap_in, gap_out, pol),
            minutes_inside=round((tl[i] - tf[i]) / 10**6 / 60, 1),
        ))  # fmt: skip
    return out
