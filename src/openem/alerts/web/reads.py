"""Which alerts a signed-in browser session has already been recorded as seeing (decision 0018).

The alerts page polls the list every few seconds. Auditing every poll wrote 1,200 identical rows an hour per
open page and buried the reads that matter; auditing none would lose who saw a new alert. So a poll is audited
only when it shows the session alerts not yet recorded for it, and the row names just those. Kept in memory,
bounded: after a restart, or when a session's set is trimmed, an alert is recorded again (over-recording is
safe; missing a disclosure is not).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

MAX_SESSIONS = 10_000
MAX_PER_SESSION = 5_000


class AlertReads:
    def __init__(self) -> None:
        self._seen: OrderedDict[str, set[str]] = OrderedDict()
        self._lock = threading.Lock()

    def unrecorded(self, session_id: str, alert_ids: list[str]) -> list[str]:
        """The alerts among these not yet recorded for the session, which are now counted as recorded."""
        with self._lock:
            seen = self._seen.pop(session_id, set())
            new = [a for a in alert_ids if a not in seen]
            if len(seen) + len(new) > MAX_PER_SESSION:
                seen = set()  # start again: some alerts get recorded twice, none are missed
            seen.update(new)
            self._seen[session_id] = seen
            while len(self._seen) > MAX_SESSIONS:
                self._seen.popitem(last=False)
            return new


_made = threading.Lock()


def alert_reads(app_state: Any) -> AlertReads:
    """The app's tracker, made on first use."""
    with _made:
        reads = getattr(app_state, "alert_reads", None)
        if reads is None:
            reads = AlertReads()
            app_state.alert_reads = reads
        return reads
