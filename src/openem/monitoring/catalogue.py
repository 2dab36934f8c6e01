"""The one catalogue of alert kinds: for every kind the engine can raise, its severity, the condition it
belongs to, the operator's label, a description, and the rule module that raises it.

The engine takes an alert's severity from here (`model.make_alert`), the pages take the label and the
description (`describe`), and docs/monitoring-rules.md carries a table generated from it (`markdown_table`,
checked by a test). A test runs the engine over a simulated world and scans the rules' source, so a rule
cannot raise a kind that is not listed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Severity = Literal["HIGH", "MEDIUM", "LOW"]
SEVERITIES: tuple[Severity, ...] = ("HIGH", "MEDIUM", "LOW")

RULES = "openem.monitoring.rules."


@dataclass(frozen=True)
class AlertKind:
    kind: str
    severity: Severity
    condition: str  # the order condition (or device / order matter) the alert is about
    label: str  # plain English for the operator's list
    description: str  # what happened and what it means
    rule: str  # the module that raises it


class UnknownAlertKind(ValueError):
    """A rule raised a kind with no catalogue entry: a programming error, caught by the tests."""


def _k(kind: str, severity: Severity, condition: str, label: str, description: str, rule: str) -> AlertKind:
    return AlertKind(kind, severity, condition, label, description, rule)


_CURFEW, _ZONES, _ALCOHOL = RULES + "curfew", RULES + "zones", RULES + "alcohol"
_HEALTH, _PRESENCE, _ATTENDANCE = RULES + "health", RULES + "presence", RULES + "attendance"

_ALL = (
    _k("curfew_absent", "HIGH", "curfew", "Absent for the whole curfew",
       "The wearer was not seen at the curfew address at any time during a curfew window. A breach of the curfew.",
       _CURFEW),
    _k("curfew_late_return", "MEDIUM", "curfew", "Late home for curfew",
       "The wearer was away when the curfew began and came home later than the grace period allows.", _CURFEW),
    _k("curfew_not_home", "MEDIUM", "curfew", "Not home after the curfew started",
       "The grace period after a curfew window's start has passed and the home unit (or GPS) last said the "
       "wearer was away. It stays open, counting the minutes, until they come home (then a late return is "
       "raised too) or the window ends.", _CURFEW),
    _k("curfew_early_leave", "MEDIUM", "curfew", "Left home during curfew",
       "The wearer left the curfew address during a window and was still away when it ended.", _CURFEW),
    _k("curfew_absence", "MEDIUM", "curfew", "Away during curfew and came back",
       "The wearer left the curfew address during a window and came back before it ended, away longer than "
       "the grace period.", _CURFEW),
    _k("atv_threshold_reached", "MEDIUM", "curfew", "Curfew lateness added up past the limit",
       "Minutes late beyond the grace period, added over the order's nights, reached the Accumulated Time "
       "Violation limit the policy sets for this order type or scheme. The nights are listed.", _CURFEW),
    _k("exclusion_entry", "HIGH", "exclusion", "Entered an exclusion zone",
       "Consecutive accurate fixes place the wearer wholly inside a zone the order forbids. A breach of the "
       "exclusion condition.", _ZONES),
    _k("exclusion_possible", "LOW", "exclusion", "Possibly entered an exclusion zone",
       "Fixes overlap an exclusion zone but are too vague to place the wearer inside it. Worth a look; not a "
       "confirmed breach.", _ZONES),
    _k("inclusion_exit", "MEDIUM", "inclusion", "Left an inclusion zone",
       "Consecutive accurate fixes place the wearer wholly outside the area the order confines them to.",
       _ZONES),
    _k("inclusion_possible_exit", "LOW", "inclusion", "Possibly left an inclusion zone",
       "Fixes straddle the edge of an inclusion zone: the wearer may have left it. Not a confirmed breach.",
       _ZONES),
    _k("attendance_missed", "MEDIUM", "attendance", "Missed an appointment",
       "No fix placed the wearer at a required appointment between its start and end.", _ATTENDANCE),
    _k("alcohol_drinking", "HIGH", "alcohol", "Drinking detected",
       "Transdermal alcohol stayed above the order's threshold for several readings, rising as a body "
       "absorbs it. A breach of the alcohol condition.", _ALCOHOL),
    _k("alcohol_contaminant", "LOW", "alcohol", "Environmental alcohol (not drinking)",
       "Alcohol rose faster than any body absorbs it: hand gel or solvents near the tag. Not a violation.",
       _ALCOHOL),
    _k("alcohol_skin_tamper", "HIGH", "alcohol", "Alcohol sensor off the skin",
       "The alcohol tag lost contact with the skin for several readings: it may have been shielded or "
       "removed, and its alcohol readings cannot be trusted meanwhile.", _ALCOHOL),
    _k("strap_tamper", "HIGH", "device_health", "Strap tampered",
       "The tag reported its strap opened: it may have been cut or removed.", _HEALTH),
    _k("case_tamper", "HIGH", "device_health", "Case tampered",
       "The tag reported its case opened: someone may be interfering with the device.", _HEALTH),
    _k("low_battery", "LOW", "device_health", "Low battery",
       "The device's battery is low, or will be by its next report; it gives the hours left. Unless charged "
       "the wearer will go unmonitored.", _HEALTH),
    _k("not_charging", "LOW", "device_health", "Not charged daily",
       "A device that must be charged every day has not been charged for longer than allowed.", _HEALTH),
    _k("no_comms", "MEDIUM", "device_health", "No communication",
       "Nothing has been received from the device for longer than its reporting interval allows: the wearer "
       "is not being monitored while it lasts.", _HEALTH),
    _k("gps_lost_moving", "LOW", "device_health", "GPS lost while moving",
       "The tag fell back to network positions straight after moving (on GPS at walking pace, or by its motion "
       "sensor), or its motion sensor says moving with no GPS fix for 5 minutes: its position is vague, perhaps "
       "shielded.", _HEALTH),
    _k("hmu_power_loss", "MEDIUM", "device_health", "Home unit lost power",
       "The home monitoring unit lost mains power; it runs on its battery and may soon fall silent.", _HEALTH),
    _k("hmu_moved", "MEDIUM", "device_health", "Home unit moved",
       "The home monitoring unit reported being moved: curfew presence may no longer be measured at the "
       "curfew address.", _HEALTH),
    _k("checkin_failed", "MEDIUM", "checkin", "Failed check-in",
       "A non-fitted device reported a check-in that failed (the wearer was not verified).", _PRESENCE),
    _k("checkin_missed", "MEDIUM", "checkin", "Missed check-in",
       "A scheduled check-in was missed, reported as such or not received by the end of its window.",
       _PRESENCE),
    _k("proximity_pre_alert", "MEDIUM", "proximity", "Near the victim (pre-alert)",
       "The wearer came within the outer ring around the victim's device.", _PRESENCE),
    _k("proximity", "HIGH", "proximity", "Too close to the victim",
       "The wearer came within the alert ring around the victim's device: the victim may be at risk now.",
       _PRESENCE),
    _k("unmonitored_no_device", "MEDIUM", "unmonitored", "Not monitored: no device fitted",
       "The order is in force but no device has been fitted long after its start.", _PRESENCE),
    _k("unmonitored_silent", "MEDIUM", "unmonitored", "Not monitored: devices silent for days",
       "Every device on the order has been silent for two weeks or more: the person is not being monitored.",
       _PRESENCE),
    _k("order_unusable", "HIGH", "order", "Order cannot be monitored",
       "Monitoring could not read this order and has set it aside; none of its conditions are being "
       "monitored until it is corrected.", "openem.monitoring.engine"),
    _k("engine_input_rejected", "HIGH", "engine", "Telemetry the engine could not process",
       "The monitoring engine failed on a stored batch several times and set it aside; its messages are kept "
       "but were not judged, so alerts may be missing for the devices in its evidence.", "openem.scale.failures"),
)  # fmt: skip

KINDS: dict[str, AlertKind] = {k.kind: k for k in _ALL}


def describe(kind: str) -> AlertKind:
    """The catalogue entry of a kind; an unknown kind (an alert stored by an older version) gets a readable
    fallback instead of an error, marked as such in its description."""
    entry = KINDS.get(kind)
    if entry is not None:
        return entry
    label = kind.replace("_", " ").strip().capitalize() or "Unknown alert"
    return AlertKind(kind, "LOW", "", label, "An alert of a kind this version does not know.", "")


def severity_of(kind: str) -> Severity:
    """The severity the engine stamps on a kind; an uncatalogued kind is refused."""
    entry = KINDS.get(kind)
    if entry is None:
        raise UnknownAlertKind(f"alert kind {kind!r} has no entry in openem.monitoring.catalogue")
    return entry.severity


def markdown_table() -> str:
    """The catalogue as the Markdown table in docs/monitoring-rules.md (between its generated markers)."""
    lines = [
        "| kind | severity | condition | label | rule | what it means |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for k in _ALL:
        rule = k.rule.removeprefix("openem.monitoring.")
        lines.append(
            f"| `{k.kind}` | {k.severity} | {k.condition} | {k.label} | `{rule}` | {k.description} |"
        )
    return "\n".join(lines)


BEGIN, END = (
    "<!-- alert catalogue: generated by `python -m openem.monitoring.catalogue FILE`; do not edit -->",
    "<!-- end of alert catalogue -->",
)


def with_table(text: str) -> str:
    """A document's text with the generated table between its markers brought up to date."""
    head, sep, rest = text.partition(BEGIN)
    if not sep or END not in rest:
        raise ValueError("the document has no alert catalogue markers")
    return head + BEGIN + "\n" + markdown_table() + "\n" + END + rest.split(END, 1)[1]


if __name__ == "__main__":  # regenerate the table in a document: python -m openem.monitoring.catalogue FILE
    import sys
    from pathlib import Path

    doc = Path(sys.argv[1])
    doc.write_text(with_table(doc.read_text(encoding="utf-8")), encoding="utf-8")
