"""Alcohol: transdermal alcohol (TAC) curves told apart.

- Drinking: TAC at or above the threshold (0.02 g/dl; for LIMIT orders the court's level, `limit_gdl` in
  the order, and with no level given any confirmed drinking is reported) for at least
  `min_readings` readings, reached at a plausible absorption rate; or `min_readings_falling` such readings
  followed by a fall (under the threshold, above half of it): rise, peak and elimination.
- Environmental contamination (hand gel, solvents): the rise to the threshold is faster than any body can
  absorb (`max_absorption_gdl_per_h`); a low-severity, non-violation alert.
- Skin-contact tamper: the infrared skin signal below 0.5 for `skin_readings` readings in a row; TAC is not
  trusted while the sensor is off the skin.
"""

from __future__ import annotations

from typing import Any


def new_state() -> dict[str, Any]:
    return {"prev": None, "ep": None, "skin_n": 0, "skin_start": None, "skin_raised": False, "skin_ev": []}


def drinking_threshold(th: dict[str, Any], mode: str, limit_gdl: float | None) -> float:
    """TAC at which a reading counts towards drinking: the court's level on a LIMIT order, else 0.02 g/dl."""
    limit = limit_gdl if limit_gdl is not None else th["limit_gdl"]
    return float(limit if (mode == "LIMIT" and limit is not None) else th["threshold_gdl"])


def quiet(tac: Any, ir: Any, th: dict[str, Any], threshold: Any) -> Any:
    """Readings (arrays) that change nothing but the last reading: on the skin, and below half the
    threshold, where an episode ends and none starts. A run of them is `skip_quiet`."""
    return (ir >= th["skin_ir_below"]) & (tac < threshold / 2)


def skip_quiet(state: dict[str, Any], t_last: float, tac_last: float) -> None:
    """What `step` leaves after a run of quiet readings ending with (t_last, tac_last)."""
    state["skin_n"], state["skin_raised"], state["ep"], state["prev"] = 0, False, None, [t_last, tac_last]


def step(state: dict[str, Any], t: float, tac: float, ir: float, msg: tuple[str, int], th: dict[str, Any],
         mode: str = "ABSTINENCE", limit_gdl: float | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """One reading in event time; returns [{kind, start, evidence, details}]."""
    out: list[dict[str, Any]] = []
    ev = [msg[0], int(msg[1])]
    if ir < th["skin_ir_below"]:
        if state["skin_n"] == 0:
            state["skin_start"], state["skin_ev"] = t, []
        state["skin_n"] += 1
        if len(state["skin_ev"]) < 10:
            state["skin_ev"].append(ev)
        if state["skin_n"] >= th["skin_readings"] and not state["skin_raised"]:
            state["skin_raised"] = True
            out.append({"kind": "alcohol_skin_tamper", "start": state["skin_start"], "evidence": list(state["skin_ev"]),
                        "details": {"ir_skin": ir}})  # fmt: skip
        return out  # TAC is meaningless while the sensor is off the skin
    state["skin_n"], state["skin_raised"] = 0, False
    threshold = drinking_threshold(th, mode, limit_gdl)
    prev = state["prev"]
    state["prev"] = [t, tac]
    ep = state["ep"]
    if tac >= threshold:
        if ep is None:
            rate = None
            if prev is not None and t > prev[0]:
                rate = (tac - prev[1]) / ((t - prev[0]) / 3600.0)
            fast = rate is not None and rate > th["max_absorption_gdl_per_h"]
            ep = state["ep"] = {"start": t, "kind": "alcohol_contaminant" if fast else "alcohol_drinking", "n": 0,
                                "raised": False, "peak": 0.0, "rate": rate, "ev": []}  # fmt: skip
        ep["n"] += 1
        ep["peak"] = max(ep["peak"], tac)
        if len(ep["ev"]) < 10:
            ep["ev"].append(ev)
        need = 1 if ep["kind"] == "alcohol_contaminant" else th["min_readings"]
        if not ep["raised"] and ep["n"] >= need:
            ep["raised"] = True
            out.append({"kind": ep["kind"], "start": ep["start"], "evidence": list(ep["ev"]),
                        "details": {"peak_gdl": ep["peak"], "rise_gdl_per_h": ep["rate"], "mode": mode}})  # fmt: skip
    elif ep is not None and tac < threshold / 2:
        state["ep"] = None
    elif ep is not None and ep["kind"] == "alcohol_drinking" and not ep["raised"]:
        # Under the threshold again but not yet down to half: the curve is falling from its peak. Rise,
        # peak and elimination are the shape of drinking, so `min_readings_falling` readings at or above the
        # threshold then confirm it (at 30-minute readings, `min_readings` alone needs an hour or more
        # above 0.02 g/dl, and a drink that peaked at 0.033 went unreported).
        if ep["n"] >= th.get("min_readings_falling", th["min_readings"]) and tac < ep["peak"]:
            ep["raised"] = True
            if len(ep["ev"]) < 10:
                ep["ev"].append(ev)
            out.append({"kind": ep["kind"], "start": ep["start"], "evidence": list(ep["ev"]),
                        "details": {"peak_gdl": ep["peak"], "rise_gdl_per_h": ep["rate"], "mode": mode,
                                    "confirmed_by": "falling curve"}})  # fmt: skip
    return out
