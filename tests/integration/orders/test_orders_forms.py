"""Reading GOV.UK date and time parts from a form: London time, the spring gap, anything typed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import ImmutableMultiDict

from openem.orders.web.forms import Field, apply_form, display, parse_field

INSTANT = Field("monitoring.start", "Monitoring starts", "instant")


def instant_form(parts: dict[str, str]) -> ImmutableMultiDict:
    return ImmutableMultiDict({f"monitoring.start-{p}": v for p, v in parts.items()})


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2060, 12, 31)))
def test_an_instant_shown_in_the_form_reads_back_to_the_same_minute_or_is_kept_unchanged(naive):
    value = naive.replace(second=0, microsecond=0, tzinfo=UTC).isoformat().replace("+00:00", "Z")
    doc = {"monitoring": {"start": value}}
    errors, _ = apply_form(doc, [INSTANT], instant_form(display(INSTANT, value)))
    assert errors == [] and doc["monitoring"]["start"] == value
    parsed, problem = parse_field(INSTANT, instant_form(display(INSTANT, value)))
    assert problem is None
    # read afresh, a wall time can only differ in the repeated hour when the clocks go back
    assert parsed == value or abs(
        datetime.fromisoformat(parsed) - datetime.fromisoformat(value)
    ) == timedelta(hours=1)


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from(["day", "month", "year", "time"]), st.text(max_size=12)))
def test_any_typed_date_gives_a_value_or_a_field_error_never_an_exception(parts):
    value, problem = parse_field(INSTANT, instant_form(parts))
    assert (value is None) or (problem is None and value.endswith("Z"))


def test_a_time_that_does_not_exist_in_london_is_refused():
    parts = {"day": "28", "month": "3", "year": "2027", "time": "01:30"}  # clocks go forward at 01:00
    value, problem = parse_field(INSTANT, instant_form(parts))
    assert value is None and "clocks go forward" in problem
