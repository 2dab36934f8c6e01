"""Time: store UTC, decide in Europe/London.

Curfews and violation periods are defined in local (Europe/London) wall-clock time and cross the
clock changes in March and October; everything stored is an aware UTC datetime.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")


class Clock:
    """A source of 'now' that tests can replace."""

    def __init__(self, now: Callable[[], datetime] | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self._now()


class FrozenClock(Clock):
    def __init__(self, at: datetime) -> None:
        self.at = ensure_utc(at)
        super().__init__(lambda: self.at)

    def advance(self, delta: timedelta) -> None:
        self.at = self.at + delta


def utcnow() -> datetime:
    return datetime.now(UTC)


def ensure_utc(dt: datetime) -> datetime:
    """Return an aware UTC datetime; naive datetimes are refused because their meaning is ambiguous."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: give a timezone (store UTC, decide in Europe/London)")
    return dt.astimezone(UTC)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant with an offset or Z into aware UTC."""
    if not isinstance(text, str) or not text:
        raise ValueError("expected an ISO 8601 date-time string")
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    dt = datetime.fromisoformat(t)
    return ensure_utc(dt)


def iso(dt: datetime) -> str:
    """Format an aware datetime as ISO 8601 UTC with a Z."""
    return ensure_utc(dt).isoformat().replace("+00:00", "Z")


def to_london(dt: datetime) -> datetime:
    return ensure_utc(dt).astimezone(LONDON)


@lru_cache(maxsize=65_536)  # a few slot times over a few hundred days: the engine asks the same ones often
def local_to_utc(day: date, at: time) -> datetime:
    """The UTC instant of a Europe/London wall-clock time on a day.

    In the spring gap (01:00-02:00 on the last Sunday of March) the wall time does not exist: it is moved
    forward by the gap, so 01:30 becomes 02:30 BST (as a scheduler would). In the autumn overlap the first
    occurrence (BST) is used.
    """
    # zoneinfo with fold=0 applies the pre-transition offset, which gives exactly these two behaviours.
    return datetime.combine(day, at).replace(tzinfo=LONDON, fold=0).astimezone(UTC)


def local_date(dt: datetime) -> date:
    return to_london(dt).date()


def violation_period_start(dt: datetime) -> datetime:
    """Start (UTC) of the 24-hour violation period containing dt: 07:00 to 06:59 local the next day."""
    local = to_london(dt)
    day = local.date() if local.time() >= time(7, 0) else local.date() - timedelta(days=1)
    return local_to_utc(day, time(7, 0))
