"""Field visits (pure): kinds, attempt outcomes, and the measures that count success, not attempts."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

KINDS = ("FIT", "REFIT", "RECOVER", "CHECK")
OUTCOMES = (
    "FITTED",  # FIT/REFIT succeeded
    "RECOVERED",  # RECOVER succeeded
    "CHECKED",  # CHECK done
    "NOT_AT_HOME",
    "NO_ACCESS",
    "REFUSED",
    "WRONG_ADDRESS",
    "UNSAFE_ADDRESS",
    "EQUIPMENT_FAULT",
    "ORDER_ERROR",
)
SUCCESS = {"FIT": "FITTED", "REFIT": "FITTED", "RECOVER": "RECOVERED", "CHECK": "CHECKED"}
#: an address check is needed before the visit can be planned
NEEDS_ADDRESS_CHECK = ("NO_ADDRESS", "NO_POSTCODE", "MALFORMED", "UNKNOWN", "WRONG_ADDRESS", "UNAVAILABLE")
STANDARD_ATTEMPTS = 2  # the contract: a second attempt for adults if the first fails


def check_outcome(kind: str, outcome: str) -> str | None:
    """None when `outcome` may be recorded on a visit of `kind`, else why not."""
    if outcome not in OUTCOMES:
        return f"Unknown outcome {outcome!r}"
    if outcome in SUCCESS.values() and SUCCESS.get(kind) != outcome:
        return f"A {kind} visit cannot end {outcome}"
    return None


def is_success(kind: str, outcome: str) -> bool:
    return SUCCESS.get(kind) == outcome


@dataclass(frozen=True)
class FittingMeasure:
    """Of the fittings asked for: how many were fitted within the standard attempts (success) beside how many
    had the standard attempts made (the contract's attempt measure)."""

    fittings: int
    fitted_within_standard: int
    attempts_made_within_standard: int
    fitted_at_all: int

    @property
    def success_rate(self) -> float:
        return self.fitted_within_standard / self.fittings if self.fittings else 0.0

    @property
    def attempt_rate(self) -> float:
        return self.attempts_made_within_standard / self.fittings if self.fittings else 0.0


def fitting_measure(attempts_per_visit: Iterable[Sequence[str]]) -> FittingMeasure:
    """Each item is one FIT visit's attempt outcomes in order."""
    n = within = made = ever = 0
    for outcomes in attempts_per_visit:
        n += 1
        first = list(outcomes)[:STANDARD_ATTEMPTS]
        if "FITTED" in first:
            within += 1
        if "FITTED" in outcomes:
            ever += 1
        # the contract counts "met" when the standard attempts were made (or it was fitted earlier)
        if len(first) >= STANDARD_ATTEMPTS or "FITTED" in first:
            made += 1
    return FittingMeasure(n, within, made, ever)
