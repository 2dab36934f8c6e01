"""Pure rules of the person view: how a typed identifier is read (fuzzy PNC formats), which positions of a long
trail a map must keep when it is thinned, speed between fixes, how fresh the data is, how a curfew night is
classed (complied, late, left early, absent, no data) and how timeline entries are filtered. No I/O here."""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, overload

import numpy as np

from openem.core.geo import haversine_m

#: Identifier kinds an order document carries for its wearer (orders.rules.duplicates.IDENTIFIERS).
IDENTIFIERS = ("pnc", "nomis_id", "crn", "prison_number", "home_office_reference")
_PNC_SLASH = re.compile(r"^(\d{2}|\d{4})/(\d{1,7})([A-Z])$")
_PNC_BARE = re.compile(r"^(\d{3,11})([A-Z])$")


def printable(text: str, limit: int) -> str:
    """Text with control characters (NUL included: PostgreSQL refuses it) dropped, cut to `limit`."""
    return "".join(c for c in text[: limit * 2] if c >= " " and c != "\x7f")[:limit]


@dataclass(frozen=True)
class Pnc:
    year: int  # four digits
    serial: int
    letter: str

    @property
    def canonical(self) -> str:
        return f"{self.year}/{self.serial:07d}{self.letter}"

    def spellings(self) -> set[str]:
        """Every way a PNC number may have been typed into an order (normalised: upper case, no spaces)."""
        out = set()
        for y in (f"{self.year}", f"{self.year % 100:02d}"):
            for s in (f"{self.serial:07d}", f"{self.serial}"):
                out |= {f"{y}/{s}{self.letter}", f"{y}{s}{self.letter}"}
        return out


def parse_pnc(text: str, today: date | None = None) -> Pnc | None:
    """A PNC number in any usual spelling: 2004/1234567A, 04/1234567A, 04/123456A, 041234567A, 2004 1234567a.
    A two-digit year is this century up to this year, else the last one. None when it is not a PNC number."""
    t = "".join(text.split()).upper()[:20]
    m = _PNC_SLASH.match(t)
    if m:
        y, serial, letter = m.group(1), m.group(2), m.group(3)
    else:
        b = _PNC_BARE.match(t)
        if not b:
            return None
        digits, letter = b.group(1), b.group(2)
        # 11 digits = 4-digit year + 7; 10 = 4 + 6; otherwise a 2-digit year and the rest
        cut = 4 if len(digits) >= 10 else 2
        y, serial = digits[:cut], digits[cut:]
        if len(serial) > 7:
            return None
    year = int(y)
    if len(y) == 2:
        now = (today or date.today()).year
        year = 2000 + year if 2000 + year <= now else 1900 + year
    if not 1900 <= year <= 2100 or int(serial) == 0:
        return None
    return Pnc(year, int(serial), letter)


def identifier_keys(text: str, today: date | None = None) -> list[str]:
    """Match keys (as the orders store indexes them, "kind:VALUE") that this typed text could be."""
    # the longest kind ("home_office_reference:") + 50 characters stays within the store's 80
    norm = "".join(text.split()).upper()[:50]
    if len(norm) < 3:
        return []
    keys = {f"{k}:{norm}" for k in IDENTIFIERS}
    pnc = parse_pnc(text, today)
    if pnc is not None:
        keys |= {f"pnc:{s}" for s in pnc.spellings()}
    return sorted(keys)


# --- trails -------------------------------------------------------------------------------------------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_us(t: datetime) -> int:
    """An aware instant as integer microseconds since the epoch (exact)."""
    return (t - _EPOCH) // timedelta(microseconds=1)


class Points(Sequence[dict[str, Any]]):
    """A trail as columns (oldest first): "t_us" int64 microseconds since the epoch, "lat", "lon", "accuracy_m"
    float64, "seq" int64 arrays and a "device_id" list. Reads like a list of position dicts ({device_id, seq,
    time, lat, lon, accuracy_m}), each dict built only when asked for, so a 90-day trail is not turned into
    130,000 dicts and datetimes to show one page of it."""

    def __init__(self, cols: dict[str, Any]) -> None:
        self.t_us: np.ndarray = np.asarray(cols["t_us"], np.int64)
        self.lat: np.ndarray = np.asarray(cols["lat"], np.float64)
        self.lon: np.ndarray = np.asarray(cols["lon"], np.float64)
        self.accuracy_m: np.ndarray = np.asarray(cols["accuracy_m"], np.float64)
        self.seq: np.ndarray = np.asarray(cols["seq"], np.int64)
        self.device_id: list[Any] = list(cols["device_id"])

    def __len__(self) -> int:
        return len(self.device_id)

    def time(self, i: int) -> datetime:
        return _EPOCH + timedelta(microseconds=int(self.t_us[i]))

    def times(self, lo: int = 0, hi: int | None = None) -> list[datetime]:
        """The aware datetimes of positions lo..hi (one numpy pass)."""
        naive = self.t_us[lo:hi].astype("datetime64[us]").astype(object)
        return [t.replace(tzinfo=UTC) for t in naive]

    def take(self, idx: Any) -> Points:
        """The positions at these indexes (an index array, or a boolean mask), as columns."""
        idx = np.asarray(idx)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        devs = self.device_id
        return Points({"t_us": self.t_us[idx], "lat": self.lat[idx], "lon": self.lon[idx],
                       "accuracy_m": self.accuracy_m[idx], "seq": self.seq[idx],
                       "device_id": [devs[i] for i in idx.tolist()]})  # fmt: skip

    def rows(self, lo: int = 0, hi: int | None = None) -> list[dict[str, Any]]:
        lo, hi, _ = slice(lo, hi).indices(len(self))
        return [
            {"device_id": d, "seq": s, "time": t, "lat": la, "lon": lo_, "accuracy_m": a}
            for d, s, t, la, lo_, a in zip(self.device_id[lo:hi], self.seq[lo:hi].tolist(), self.times(lo, hi),
                                           self.lat[lo:hi].tolist(), self.lon[lo:hi].tolist(),
                                           self.accuracy_m[lo:hi].tolist(), strict=True)
        ]  # fmt: skip

    @overload
    def __getitem__(self, i: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, i: slice) -> list[dict[str, Any]]: ...
    def __getitem__(self, i: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(i, slice):
            r = range(len(self))[i]
            if r.step != 1:
                return [self.rows(k, k + 1)[0] for k in r]
            return self.rows(r.start, max(r.start, r.stop))
        n = len(self)
        if i < 0:
            i += n
        if not 0 <= i < n:
            raise IndexError(i)
        return self.rows(i, i + 1)[0]

    def __iter__(self) -> Any:
        step = 10_000
        for lo in range(0, len(self), step):
            yield from self.rows(lo, lo + step)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Points | list):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


#: A silence between two fixes longer than this is a gap worth showing.
GAP = timedelta(minutes=15)


def speeds_kmh(points: Sequence[dict[str, Any]]) -> list[float | None]:
    """Speed into each fix from the one before (None for the first, or when both share a time)."""
    out: list[float | None] = [None]
    for a, b in zip(points, points[1:], strict=False):
        dt = (b["time"] - a["time"]).total_seconds()
        out.append(
            None if dt <= 0 else round(haversine_m(a["lat"], a["lon"], b["lat"], b["lon"]) / dt * 3.6, 1)
        )
    return out


def key_points(
    points: Sequence[dict[str, Any]],
    inside: Sequence[frozenset[str]] | None = None,
    boundaries: Iterable[datetime] = (),
    gap: timedelta = GAP,
) -> set[int]:
    """Indexes a thinned map must keep: first and last, each side of a gap, each zone entry and exit (a change of
    the set of zones a fix is inside), and the fixes either side of each curfew start and end."""
    n = len(points)
    keep = {0, n - 1} if n else set()
    if isinstance(points, Points):
        gaps = np.flatnonzero(np.diff(points.t_us) > gap // timedelta(microseconds=1)) + 1
        keep.update(int(k) for i in gaps.tolist() for k in (i - 1, i))
        if inside is not None:
            for i in range(1, n):
                if inside[i] != inside[i - 1]:
                    keep |= {i - 1, i}
        for b in boundaries:
            j = int(np.searchsorted(points.t_us, to_us(b), "left"))
            keep |= {k for k in (j - 1, j) if 0 <= k < n}
        return keep
    for i in range(1, n):
        if points[i]["time"] - points[i - 1]["time"] > gap:
            keep |= {i - 1, i}
        if inside is not None and inside[i] != inside[i - 1]:
            keep |= {i - 1, i}
    times = [p["time"] for p in points]
    for b in boundaries:
        j = bisect.bisect_left(times, b)
        keep |= {k for k in (j - 1, j) if 0 <= k < n}
    return keep


def thin(n: int, keep: set[int], budget: int) -> list[int]:
    """Indexes to draw: every kept index, plus evenly spaced others up to about `budget` in all."""
    if n <= budget:
        return list(range(n))
    room = max(0, budget - len(keep))
    step = max(1, math.ceil(n / room)) if room else n + 1
    return sorted(keep | set(range(0, n, step)))


def freshness(
    newest: datetime | None, now: datetime, stale_after: timedelta = timedelta(hours=1)
) -> str | None:
    """Words for the data-freshness banner, or None when the newest position is recent."""
    if newest is None:
        return "There are no positions in this window."
    age = now - newest
    if age <= stale_after:
        return None
    hours = int(age.total_seconds() // 3600)
    if hours < 48:
        return f"The newest position is {hours} hour{'s' if hours != 1 else ''} old."
    return f"The newest position is {hours // 24} days old."


# --- curfew nights ------------------------------------------------------------------------------------------

STATUSES = ("complied", "late", "left early", "absent", "no data")


def classify_night(
    start: datetime,
    end: datetime,
    fixes: Sequence[tuple[datetime, bool]],
    grace: timedelta,
    max_gap: timedelta = timedelta(minutes=30),
) -> tuple[str, int]:
    """(status, minutes away) for one curfew slot from its fixes (time, at home), oldest first.
    late: away at the start, home later and then stayed; left early: home, then away up to the end; absent:
    away for longer than the grace otherwise (or never home); no data: no fixes. Away minutes count the time
    from each away fix to the next fix (capped at `max_gap`, so a silence is not counted as away)."""
    if not fixes:
        return "no data", 0
    away = timedelta()
    for (t, home), nxt in zip(fixes, [*fixes[1:], (end, True)], strict=False):
        if not home:
            away += min(nxt[0] - t, max_gap)
    minutes = int(away.total_seconds() // 60)
    if away <= grace:
        return "complied", minutes
    homes = [h for _, h in fixes]
    if not any(homes):
        return "absent", minutes
    first_home = homes.index(True)
    last_home = len(homes) - 1 - homes[::-1].index(True)
    if first_home > 0 and all(homes[first_home:]):
        return "late", minutes
    if last_home < len(homes) - 1 and all(homes[: last_home + 1]):
        return "left early", minutes
    return "absent", minutes


def atv_minutes(nights: Iterable[tuple[str, int]]) -> int:
    """Accumulated Time Violation: the minutes away summed over nights that were not complied with."""
    return sum(m for s, m in nights if s in ("late", "left early", "absent"))


def home_intervals(
    fixes: Sequence[tuple[datetime, bool]], end: datetime, max_gap: timedelta = timedelta(minutes=30)
) -> list[tuple[datetime, datetime, bool]]:
    """Runs of home / not home within a night, for the chart; a silence longer than `max_gap` is left out."""
    out: list[tuple[datetime, datetime, bool]] = []
    for (t, home), nxt in zip(fixes, [*fixes[1:], (end, True)], strict=False):
        until = min(nxt[0], t + max_gap)
        if out and out[-1][2] == home and out[-1][1] == t:
            out[-1] = (out[-1][0], until, home)
        else:
            out.append((t, until, home))
    return out


# --- timeline -----------------------------------------------------------------------------------------------

KINDS = {
    "order": "Orders and versions",
    "device": "Devices and activations",
    "visit": "Visits",
    "alert": "Alerts",
    "incident": "Incidents",
    "breach": "Breaches and responses",
    "note": "Notes",
}


def filter_timeline(entries: Iterable[dict[str, Any]], kinds: Iterable[str]) -> list[dict[str, Any]]:
    """Entries of the chosen kinds (all when none is chosen; unknown kinds are ignored), newest first."""
    wanted = {k for k in kinds if k in KINDS} or set(KINDS)
    return sorted((e for e in entries if e["kind"] in wanted), key=lambda e: e["at"], reverse=True)
