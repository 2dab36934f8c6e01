"""The brute-force rules: failures counted in a window, a lock at the limit, longer with each lockout."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from openem.auth.throttle_rules import MAX_LOCK_S, Rule, after_failure, minutes, retry_after_s

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACCOUNT = Rule(5, 900, 900, grows=True)


def fail(n, rule=ACCOUNT, state=None, start=T0, step=timedelta(seconds=1)):
    now = start
    for _ in range(n):
        state = after_failure(state, rule, now)
        now += step
    return state, now


def test_four_failures_do_not_lock_and_the_fifth_locks_for_fifteen_minutes():
    state, now = fail(4)
    assert retry_after_s(state, now) == 0 and state.failures == 4
    state, now = fail(1, state=state, start=now)
    assert retry_after_s(state, now - timedelta(seconds=1)) == 900


def test_failures_older_than_the_window_are_forgotten():
    state, now = fail(4)
    state = after_failure(state, ACCOUNT, now + timedelta(minutes=16))
    assert state.failures == 1 and state.locked_until is None


def test_each_lockout_in_a_row_lasts_twice_as_long_up_to_a_day():
    state, lengths = None, []
    now = T0
    for _ in range(10):
        state, now = fail(5, state=state, start=now)
        lengths.append(retry_after_s(state, now - timedelta(seconds=1)))
        now = state.locked_until + timedelta(seconds=1)
    assert lengths[:4] == [900, 1800, 3600, 7200]
    assert max(lengths) == MAX_LOCK_S


def test_a_lockout_more_than_a_day_ago_does_not_lengthen_the_next():
    state, now = fail(5)
    state, now = fail(5, state=state, start=now + timedelta(days=2))
    assert retry_after_s(state, now - timedelta(seconds=1)) == 900


def test_an_address_rule_locks_for_its_window_without_growing():
    rule = Rule(20, 600, 600)
    state, now = fail(20, rule)
    state, now = fail(20, rule, state=state, start=state.locked_until)
    assert retry_after_s(state, now - timedelta(seconds=1)) == 600


@given(st.integers(min_value=1, max_value=30), st.integers(min_value=1, max_value=20))
def test_never_locked_before_the_limit_and_always_at_it(limit, extra):
    rule = Rule(limit, 3600, 60)
    state, now = fail(limit - 1, rule)
    assert retry_after_s(state, now) == 0
    state, now = fail(1, rule, state=state, start=now)
    assert retry_after_s(state, now - timedelta(seconds=1)) > 0


def test_minutes_are_rounded_up_for_people():
    assert minutes(1) == "1 minute" and minutes(61) == "2 minutes" and minutes(900) == "15 minutes"
