"""Attendance: the wearer must be at an appointment (within `radius_m` of it) at some point between its
start and end.

A fix counts when its position, give or take its accuracy (capped at `max_accuracy_share` of the radius,
since a vague fix cannot prove attendance), is within the radius during the appointment; `min_fixes` such
fixes, across batches, attend it. An appointment that ends unattended is missed once the watermark passes
its end plus the finalising delay. `counts` is the vectorised kernel the engine runs over a batch; its oracle
is `counts_one`, the same test for one fix.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

Appointment = dict[str, Any]  # {id, x, y, radius_m, start, end} (BNG metres, UTC seconds)


def counts_one(t: float, x: float, y: float, acc: float, appt: Appointment, share: float) -> bool:
    """Does one fix count towards attending the appointment?"""
    if not appt["start"] <= t <= appt["end"]:
        return False
    return bool(
        math.hypot(x - appt["x"], y - appt["y"]) <= appt["radius_m"] + min(acc, share * appt["radius_m"])
    )


def counts(t: NDArray[np.float64], x: NDArray[np.float64], y: NDArray[np.float64], acc: NDArray[np.float64],
           appt: Appointment, share: float) -> NDArray[np.bool_]:  # fmt: skip
    """`counts_one` for every fix of a batch (NaN positions never count)."""
    inwin = (t >= appt["start"]) & (t <= appt["end"])
    slack = np.minimum(acc, share * appt["radius_m"])
    with np.errstate(invalid="ignore"):
        result: NDArray[np.bool_] = inwin & (
            np.hypot(x - appt["x"], y - appt["y"]) <= appt["radius_m"] + slack
        )
    return result


def attend(state: dict[str, Any], appt_id: str, fixes: int, first: list[Any], min_fixes: int) -> None:
    """Add up a batch's counting fixes; at `min_fixes` the appointment is attended (`state["attended"]`
    holds its first fix as evidence)."""
    seen = state.setdefault("att_fixes", {}).setdefault(appt_id, [0, first])
    seen[0] += fixes
    if seen[0] >= min_fixes:
        state.setdefault("attended", {})[appt_id] = seen[1]
        del state["att_fixes"][appt_id]


def missed(appointments: list[Appointment], done: dict[str, Any], now: float, finalise_s: float
           ) -> tuple[list[dict[str, Any]], float]:  # fmt: skip
    """Appointments that ended (plus the finalising delay) unattended, marked judged in `done`, as alert
    drafts; and the next moment another can be judged (inf: none)."""
    out: list[dict[str, Any]] = []
    nxt = math.inf
    for appt in appointments:
        if appt["id"] in done:
            continue
        if now >= appt["end"] + finalise_s:
            done[appt["id"]] = None
            out.append({"kind": "attendance_missed", "start": appt["start"], "end": appt["end"], "evidence": [],
                        "details": {"appointment_id": appt["id"]}, "condition_id": appt["id"]})  # fmt: skip
        else:
            nxt = min(nxt, appt["end"] + finalise_s)
    return out, nxt
