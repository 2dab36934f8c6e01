"""Field-by-field difference between two order versions and the variation types it implies."""

from __future__ import annotations

import dataclasses
from typing import Any

_MISSING = object()


@dataclasses.dataclass(frozen=True, slots=True)
class FieldChange:
    field: str
    before: Any
    after: Any

    def to_dict(self) -> dict[str, Any]:
        return {"field": self.field, "before": self.before, "after": self.after}


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Leaf values by path: {"conditions.curfew.timetable[2].end": "07:00", ...}. Empty lists/dicts are leaves."""
    out: dict[str, Any] = {}
    if isinstance(value, dict) and value:
        for k, v in value.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(value, list) and value:
        for i, v in enumerate(value):
            out.update(flatten(v, f"{prefix}[{i}]"))
    else:
        out[prefix] = value
    return out


IGNORED = ("version", "request_type", "defects")


def diff_orders(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    a, b = flatten(before), flatten(after)
    changes = []
    for key in sorted(set(a) | set(b)):
        if key.split(".", 1)[0].split("[", 1)[0] in IGNORED:
            continue
        x, y = a.get(key, _MISSING), b.get(key, _MISSING)
        if x != y:
            changes.append(FieldChange(key, None if x is _MISSING else x, None if y is _MISSING else y))
    return changes


def _zone_ids(doc: dict[str, Any]) -> set[Any]:
    zones = (doc.get("conditions") or {}).get("exclusion_zones") or []
    return {z.get("id") for z in zones if isinstance(z, dict)}


PERSONAL = ("device_wearer", "responsible_adult", "contact")
ENFORCEABLE = (
    "conditions.inclusion_zones",
    "conditions.trail",
    "conditions.attendance",
    "conditions.alcohol",
    "conditions.proximity",
)


def variation_types(
    before: dict[str, Any], after: dict[str, Any], changes: list[FieldChange] | None = None
) -> list[str]:
    """Codes from variation_types.csv describing what changed (sorted, without duplicates)."""
    changes = diff_orders(before, after) if changes is None else changes
    kinds: set[str] = set()
    for change in changes:
        f = change.field
        if f.startswith(PERSONAL):
            kinds.add("CHANGE_TO_PERSONAL_DETAILS")
        elif f.startswith("addresses"):
            kinds.add("CHANGE_TO_ADDRESS")
        elif f.startswith("conditions.curfew"):
            kinds.add("CHANGE_TO_CURFEW_HOURS")
        elif f.startswith("conditions.exclusion_zones"):
            kinds.add("CHANGE_TO_AN_EXISTING_EXCLUSION")
        elif f.startswith(ENFORCEABLE) or f.startswith("monitoring"):
            kinds.add("CHANGE_TO_ENFORCEABLE_CONDITION")
        else:
            kinds.add("OTHER")
    if _zone_ids(after) - _zone_ids(before):
        kinds.add("CHANGE_TO_ADD_AN_EXCLUSION_ZONES")
        if not any(
            c.field.startswith("conditions.exclusion_zones") and _is_existing_zone_change(c, before, after)
            for c in changes
        ):
            kinds.discard("CHANGE_TO_AN_EXISTING_EXCLUSION")
    return sorted(kinds)


def _is_existing_zone_change(change: FieldChange, before: dict[str, Any], after: dict[str, Any]) -> bool:
    """A change under exclusion_zones[i] where zone i existed before with the same id."""
    try:
        index = int(change.field.split("[", 1)[1].split("]", 1)[0])
    except (IndexError, ValueError):
        return False
    old = (before.get("conditions") or {}).get("exclusion_zones") or []
    new = (after.get("conditions") or {}).get("exclusion_zones") or []
    return index < len(old) and index < len(new) and old[index].get("id") == new[index].get("id")
