"""Device lifecycle: the states a device moves through and which moves are allowed (pure, no persistence)."""

from __future__ import annotations

STATES = (
    "IN_STOCK",
    "ALLOCATED",
    "FITTED",
    "AWAITING_RETURN",
    "RECOVERED",
    "LOST",
    "FAULTY",
)

# from-state -> states it may move to. RECOVERED goes back to stock after a check; FAULTY may be repaired.
ALLOWED: dict[str, frozenset[str]] = {
    "IN_STOCK": frozenset({"ALLOCATED", "FITTED", "FAULTY", "LOST"}),
    "ALLOCATED": frozenset({"IN_STOCK", "FITTED", "FAULTY", "LOST"}),
    "FITTED": frozenset({"AWAITING_RETURN", "FAULTY", "LOST"}),
    "AWAITING_RETURN": frozenset({"RECOVERED", "LOST", "FAULTY"}),
    "RECOVERED": frozenset({"IN_STOCK", "FAULTY"}),
    "LOST": frozenset({"RECOVERED"}),
    "FAULTY": frozenset({"IN_STOCK", "LOST"}),
}


def check_transition(current: str, to: str) -> str | None:
    """None when `current` -> `to` is allowed, else the reason it is not."""
    if to not in ALLOWED:
        return f"Unknown device state {to!r}"
    if current == to:
        return f"The device is already {to}"
    if to not in ALLOWED.get(current, frozenset()):
        return f"A device cannot go from {current} to {to}"
    return None
