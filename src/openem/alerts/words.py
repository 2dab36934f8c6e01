"""An episode in plain words for the alerts pages: open or closed, why it closed, and its measures
("5 minutes inside the zone", "peak 0.08 g/dl"), never the engine's field names."""

from __future__ import annotations

from typing import Any

REASONS = {
    "ended": "ended",
    "not_confirmed": "not confirmed: the next position was clear of the zone",
    "returned": "the wearer returned",
    "window_ended": "the curfew period ended with the wearer still away",
    "end_of_data": "still open when the data ended",
    "superseded": "replaced by a confirmed alert",
    "apart": "the wearer and the victim were apart again",
    "contact_again": "the device was heard from again",
    "charged": "the device was put on charge",
    "recovered": "the battery level recovered",
    "restored": "the device reported it restored",
}

MEASURES = {
    "minutes_inside": "{} inside the zone",
    "minutes_outside": "{} outside the zone",
    "minutes_late": "{} after the curfew start",
    "minutes_away": "away for {} since the curfew start",
    "minutes_beyond_grace": "{} beyond the grace period",
    "minutes_absent": "{} away during the curfew",
    "minutes_over_threshold": "{} over the alcohol threshold",
    "minutes_unknown_compliance": "alcohol compliance unknown for {}",
    "minutes_within": "{} within the victim's ring",
    "minutes_low": "battery low for {}",
    "minutes_open": "open for {}",
    "minutes_without_mains": "without mains power for {}",
    "minutes_moved": "moved for {}",
}


def _duration(minutes: float) -> str:
    m = int(round(minutes))
    if m < 60:
        return f"{m} minute{'s' if m != 1 else ''}"
    h, r = divmod(m, 60)
    hours = f"{h} hour{'s' if h != 1 else ''}"
    return f"{hours} {r} minute{'s' if r != 1 else ''}" if r else hours


#: why a curfew episode closes "not confirmed" (a zone's reason is the default above)
CURFEW_NOT_CONFIRMED = "not confirmed: a reading received later showed the wearer home in time"


def measure_words(measure: dict[str, Any]) -> list[str]:
    out = []
    for name, value in measure.items():
        if not isinstance(value, int | float):
            continue
        if name == "minutes_away" and "minutes_late" in measure:
            continue  # the same time, said once
        if name in MEASURES:
            out.append(MEASURES[name].format(_duration(float(value))))
        elif name == "peak_tac":
            out.append(f"peak alcohol level {float(value):.3f} g/dl")
        elif name == "closest_m":
            out.append(f"{int(round(float(value))):,} metres at the closest")
        elif name == "hours_overdue_charge":
            out.append(f"overdue a charge by {_duration(float(value) * 60)}")
        elif name == "hours_unmonitored":
            days, hours = divmod(int(value), 24)
            out.append(
                f"unmonitored for {days} days {hours} hours" if days else f"unmonitored for {hours} hours"
            )
    return out


def episode_words(ep: dict[str, Any] | None) -> str:
    """ "Open: 12 minutes inside the zone" / "Closed (the wearer returned): 2 hours after the curfew start"."""
    if not ep:
        return ""
    words = measure_words(dict(ep.get("measure") or {}))
    if ep.get("state") == "closed":
        reason = str(ep.get("closed_reason"))
        said = REASONS.get(reason, "ended")
        if reason == "not_confirmed" and str(ep.get("kind") or "").startswith("curfew"):
            said = CURFEW_NOT_CONFIRMED
        head = f"Closed ({said})"
    elif ep.get("closed_reason") == "end_of_data":
        head = "Still open when the data ended"
    else:
        head = "Still open"
    if ep.get("confidence") == "possible" and ep.get("state") != "closed":
        head += ", held for review (possible)"
    return head + (": " + ", ".join(words) if words else "")
