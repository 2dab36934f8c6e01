"""Brute-force rules, pure: count failures in a window; at the limit, lock for a while (growing with each
lockout in a row for accounts). The same rules serve sign-in per account, sign-in per client address and
bearer-token failures per client address; `throttle.py` keeps the counts in the database."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

MAX_LOCK_S = 24 * 3600
#: a lockout no longer counts towards the next one's length after this long
LOCKOUT_MEMORY_S = 24 * 3600


@dataclass(frozen=True)
class Rule:
    max_failures: int
    window_s: int
    lock_s: int
    grows: bool = False  # each lockout in a row lasts twice as long as the one before (up to a day)


@dataclass(frozen=True)
class Attempts:
    failures: int
    window_start: datetime
    locked_until: datetime | None = None
    lockouts: int = 0
    last_locked_at: datetime | None = None


def retry_after_s(state: Attempts | None, now: datetime) -> int:
    """Seconds until attempts are allowed again (0: allowed now)."""
    if state is None or state.locked_until is None or state.locked_until <= now:
        return 0
    return math.ceil((state.locked_until - now).total_seconds())


def after_failure(state: Attempts | None, rule: Rule, now: datetime) -> Attempts:
    if state is None or now - state.window_start >= timedelta(seconds=rule.window_s):
        lockouts = state.lockouts if state else 0
        last = state.last_locked_at if state else None
        state = Attempts(0, now, None, lockouts, last)
    if state.last_locked_at and now - state.last_locked_at >= timedelta(seconds=LOCKOUT_MEMORY_S):
        state = replace(state, lockouts=0)
    failures = state.failures + 1
    if failures < rule.max_failures:
        return replace(state, failures=failures)
    lock_s = min(MAX_LOCK_S, rule.lock_s * (2**state.lockouts if rule.grows else 1))
    return Attempts(0, now, now + timedelta(seconds=lock_s), state.lockouts + 1, now)


def minutes(seconds: int) -> str:
    m = max(1, math.ceil(seconds / 60))
    return "1 minute" if m == 1 else f"{m} minutes"
