"""The curfew's cached window table answers exactly what building the windows from the timetable day by day
answers, for any timetable, release day, order span and query (DST weekends included), in any query order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from openem.core.time import LONDON
from openem.monitoring.model import windows_for_slots
from openem.monitoring.rules.curfew import curfew_windows, next_window

DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
BASE = datetime(2026, 3, 20, tzinfo=UTC).timestamp()  # the spring DST change falls inside the range
hhmm = st.sampled_from(["00:00", "01:30", "07:00", "09:15", "12:00", "19:00", "20:30", "23:45"])
slot = st.builds(lambda d, s, e: {"day": d, "start": s, "end": e}, st.sampled_from(DAYS), hhmm, hhmm)


def reference(cf: dict, lo: float, hi: float) -> list[tuple[float, float]]:
    """Windows overlapping [lo, hi], straight from the timetable (no cache)."""
    lo, hi = max(lo, cf["start"]), min(hi, cf["end"])
    if lo > hi:
        return []
    first_day = datetime.fromtimestamp(cf["start"], UTC).astimezone(LONDON).date()
    day = datetime.fromtimestamp(lo, UTC).astimezone(LONDON).date() - timedelta(days=1)
    last = datetime.fromtimestamp(hi, UTC).astimezone(LONDON).date()
    out = set()
    while day <= last:
        slots = [cf["release_day"]] if (cf.get("release_day") and day == first_day) else cf["slots"]
        for s, e in windows_for_slots(slots, day):
            s, e = max(s, cf["start"]), min(e, cf["end"])
            if s < e and e >= lo and s <= hi:
                out.add((s, e))
        day += timedelta(days=1)
    return sorted(out)


@settings(max_examples=150, deadline=None)
@given(st.lists(slot, min_size=1, max_size=5), st.one_of(st.none(), slot), st.integers(0, 40 * 24),
       st.integers(1, 60 * 24), st.lists(st.tuples(st.integers(-48, 70 * 24), st.integers(0, 20 * 24)), min_size=1,
                                         max_size=12))  # fmt: skip
def test_window_table_matches_the_timetable(slots, release, start_h, len_h, queries) -> None:
    cf = {"start": BASE + start_h * 3600, "end": BASE + (start_h + len_h) * 3600, "slots": slots,
          "release_day": release}  # fmt: skip
    for q, span in queries:  # the table is cached on the spec: queries move back and forth in time
        lo = BASE + q * 3600
        assert curfew_windows(cf, lo, lo + span * 3600) == reference(cf, lo, lo + span * 3600)
        want = next((w for w in reference(cf, lo, lo + 8 * 86400) if w[1] > lo), None)
        assert next_window(cf, lo) == want
