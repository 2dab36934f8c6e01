"""Devices (serials, models, firmware), activations made by fittings, and field reality of the fitting visits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from openem.core.time import parse_instant
from openem.sim.population import PLANS, plan_has

KINDS = ("RF_TAG", "HMU", "GPS_TAG", "ALCOHOL_TAG", "NFD", "VICTIM")
MODELS = {
    "RF_TAG": ("RF-200", ("3.1.4", "3.2.0")),
    "HMU": ("HMU-5", ("5.0.9", "5.1.2")),
    "GPS_TAG": ("GT-900", ("9.4.1", "9.5.0", "9.5.1")),
    "ALCOHOL_TAG": ("TAC-2", ("2.2.7",)),
    "NFD": ("NFD-BIO", ("1.8.0", "1.9.3")),
    "VICTIM": ("VPD-1", ("1.0.5",)),
}
_PREFIX = {
    "RF_TAG": "RFT",
    "HMU": "HMU",
    "GPS_TAG": "GPS",
    "ALCOHOL_TAG": "ALC",
    "NFD": "NFD",
    "VICTIM": "VIC",
}


def needs(plan: np.ndarray, kind: str, victim_p: np.ndarray) -> np.ndarray:
    mask: np.ndarray = {
        "RF_TAG": plan_has(plan, "rf_tag"),
        "HMU": plan_has(plan, "hmu"),
        "GPS_TAG": plan_has(plan, "gps"),
        "ALCOHOL_TAG": plan_has(plan, "alcohol"),
        "NFD": plan_has(plan, "nfd"),
        "VICTIM": plan_has(plan, "victim") & victim_p,
    }[kind]
    return mask


def device_id(kind: str, seed: int, person_index: int) -> str:
    return f"{_PREFIX[kind]}-{seed % 10000:04d}{person_index:07d}"


def field_reality(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Fitting visits: 62% fitted within two attempts; the rest need more visits or are never fitted."""
    attempts = np.where(rng.random(n) < 0.62, rng.integers(1, 3, n), rng.integers(3, 6, n))
    u = rng.random(n)
    fail_reason = np.select(
        [u < 0.45, u < 0.6, u < 0.8, u < 0.9],
        ["not_home", "refused", "late_order", "wrong_address"],
        "equipment_fault",
    )
    fitted = rng.random(n) > 0.04
    return {
        "attempts": attempts,
        "home_at_first_visit": attempts == 1,
        "first_failure_reason": np.where(attempts > 1, fail_reason, np.array(None, dtype=object)),
        "refused": (attempts > 1) & (fail_reason == "refused"),
        "wrong_address": (attempts > 1) & (fail_reason == "wrong_address"),
        "late_order": (attempts > 1) & (fail_reason == "late_order"),
        "fitted": fitted,
        "equipment_returned_at_end": rng.random(n) < 0.6,
    }


def activation_start(order: dict[str, Any], attempts: int) -> str:
    base = parse_instant(order["installation"]["appointment"])
    return (base + timedelta(days=int(attempts) - 1)).isoformat().replace("+00:00", "Z")


__all__ = ["KINDS", "MODELS", "PLANS", "needs", "device_id", "field_reality", "activation_start"]
