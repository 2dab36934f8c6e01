"""Times as every page writes them: Europe/London wall-clock time in the GOV.UK style, across both clock
changes, from datetimes (aware or the store's naive UTC) and from ISO strings."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from openem.web.rendering import london_time


@pytest.mark.parametrize(
    ("instant", "shown"),
    [
        ("2026-12-01T20:31:00Z", "1 December 2026 at 8:31pm"),  # winter: GMT, London = UTC
        ("2026-07-01T20:31:00Z", "1 July 2026 at 9:31pm"),  # summer: BST, an hour ahead
        ("2026-12-01T00:00:00Z", "1 December 2026 at midnight"),
        ("2026-06-30T23:00:00Z", "1 July 2026 at midnight"),  # the London day, not the UTC one
        ("2026-07-01T11:00:00Z", "1 July 2026 at midday"),
        ("2026-12-01T09:00:00+00:00", "1 December 2026 at 9am"),
        ("2026-12-01T09:05:00Z", "1 December 2026 at 9:05am"),
        # the clocks go forward at 1am GMT on 29 March 2026: 00:59 GMT, then 2am BST
        ("2026-03-29T00:59:00Z", "29 March 2026 at 12:59am"),
        ("2026-03-29T01:00:00Z", "29 March 2026 at 2am"),
        # and back at 2am BST on 25 October 2026: 1:30am happens twice, so the zone is said
        ("2026-10-25T00:30:00Z", "25 October 2026 at 1:30am BST"),
        ("2026-10-25T01:30:00Z", "25 October 2026 at 1:30am GMT"),
        ("2026-10-25T02:30:00Z", "25 October 2026 at 2:30am"),
    ],
)
def test_instants_are_written_in_london_time_in_the_govuk_style(instant: str, shown: str) -> None:
    assert london_time(instant) == shown
    assert london_time(datetime.fromisoformat(instant.replace("Z", "+00:00"))) == shown


def test_the_stores_naive_datetimes_are_utc_and_anything_else_is_shown_as_it_is() -> None:
    assert london_time(datetime(2026, 7, 1, 20, 31)) == "1 July 2026 at 9:31pm"
    assert london_time(None) == "" and london_time(None, "Not yet") == "Not yet"
    assert london_time("not a time") == "not a time"
    assert london_time(date(2026, 3, 29)) == "29 March 2026"
    assert (
        london_time(datetime(2026, 7, 1, 20, 31, 5, tzinfo=UTC), seconds=True) == "1 July 2026 at 9:31:05pm"
    )
