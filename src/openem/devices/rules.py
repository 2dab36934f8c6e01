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
    "IN_REPAIR",
    "RETIRED",
    "IN_TRANSIT",
)

#: the words a person reads (AWAITING_RETURN / RECOVERED are "awaiting collection" / "collected")
STATE_LABELS = {
    "IN_STOCK": "In stock",
    "ALLOCATED": "Allocated",
    "FITTED": "Fitted",
    "AWAITING_RETURN": "Awaiting collection",
    "RECOVERED": "Collected",
    "LOST": "Lost",
    "FAULTY": "Faulty",
    "IN_REPAIR": "In repair",
    "RETIRED": "Retired",
    "IN_TRANSIT": "In transit between depots",
}
KIND_LABELS = {
    "RF_TAG": "Radio frequency tag",
    "HMU": "Home monitoring unit",
    "GPS_TAG": "GPS tag",
    "ALCOHOL_TAG": "Alcohol tag",
    "NFD": "Non-fitted device",
    "VICTIM": "Victim device",
}

# from-state -> states it may move to. RECOVERED goes back to stock after a check; FAULTY may be repaired.
ALLOWED: dict[str, frozenset[str]] = {
    "IN_STOCK": frozenset({"ALLOCATED", "FITTED", "FAULTY", "LOST", "IN_TRANSIT"}),
    "ALLOCATED": frozenset({"IN_STOCK", "FITTED", "FAULTY", "LOST"}),
    "FITTED": frozenset({"AWAITING_RETURN", "FAULTY", "LOST"}),
    "AWAITING_RETURN": frozenset({"RECOVERED", "LOST", "FAULTY"}),
    "RECOVERED": frozenset({"IN_STOCK", "FAULTY", "RETIRED"}),
    "LOST": frozenset({"RECOVERED", "RETIRED"}),
    "FAULTY": frozenset({"IN_STOCK", "LOST", "IN_REPAIR", "RETIRED"}),
    "IN_REPAIR": frozenset({"IN_STOCK", "RETIRED"}),
    "RETIRED": frozenset(),
    # moved between depots (a transfer): received into stock at the other depot, or lost on the way
    "IN_TRANSIT": frozenset({"IN_STOCK", "LOST"}),
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
