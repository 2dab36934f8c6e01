"""Flags: openem's stricter rules that CEMO does not have, which a person may acknowledge instead of being refused.

A flag is a `ValidationError` like any other (so an unacknowledged one still stops `submit`), but its
`(code, field)` is listed in `FLAGS`. The order's `acknowledgements` list says which flags someone checked,
each tied to a fingerprint of the flagged value: change the value and the flag is raised again. `"user"` flags
may be acknowledged by the person submitting; `"import"` flags only by the CEMO importer, because they are CEMO
answers its own submit check accepted but openem's forms ask for (docs/order-validation.md "Flags").
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from openem.orders.rules.base import ValidationError

_NAMES = r"device_wearer\.(first_name|middle_name|last_name|aliases\[\d+\])|responsible_adult\.full_name"
_IDS = r"device_wearer\.(pnc|crn|nomis_id|prison_number|home_office_reference)"
_CONDITIONS = (
    r"conditions\.(curfew|trail|alcohol|(exclusion|inclusion|restriction)_zones\[\d+\])\.(start|end)"
)

#: code -> (field pattern, who may acknowledge: "user" (and the importer) or "import" only)
FLAGS: dict[str, tuple[re.Pattern[str], str]] = {
    "name_format": (re.compile(_NAMES), "user"),
    "identifier_format": (re.compile(_IDS), "user"),
    "curfew_too_few_hours": (re.compile(r"conditions\.curfew\.timetable\[\d+\]"), "user"),
    "install_after_start": (re.compile(r"installation\.appointment"), "user"),
    "outside_order_dates": (re.compile(_CONDITIONS), "user"),
    "agency_cohort_mismatch": (re.compile(r"interested_parties\.responsible_organisation"), "user"),
    "zone_not_drawn": (re.compile(r"conditions\.zones_to_draw\[\d+\]"), "user"),
    "required": (
        re.compile(r"interested_parties\.(notifying_team_email|police_area)|installation\.location"),
        "import",
    ),
}

SOURCES = ("USER", "CEMO_IMPORT")


def is_flag(error: ValidationError, source: str = "CEMO_IMPORT") -> bool:
    """The error is a flag `source` may acknowledge (USER: the person submitting; CEMO_IMPORT: the importer)."""
    entry = FLAGS.get(error.code)
    if entry is None or not entry[0].fullmatch(error.field):
        return False
    return source == "CEMO_IMPORT" or entry[1] == "user"


def _value(doc: Any, field: str) -> Any:
    node = doc
    for name, index in re.findall(r"([a-z_]+)|\[(\d+)\]", field):
        if name:
            node = node.get(name) if isinstance(node, dict) else None
        else:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
    return node


def fingerprint(doc: Any, error: ValidationError) -> str:
    """What the flag was raised on: the flagged value, and for date flags the order's dates too."""
    parts: list[Any] = [_value(doc, error.field)]
    if error.code in ("install_after_start", "outside_order_dates", "curfew_too_few_hours"):
        parts.append(_value(doc, "monitoring"))
    if error.code == "agency_cohort_mismatch":
        parts.append(_value(doc, "monitoring.cohort"))
    raw = json.dumps(parts, sort_keys=True, default=str).encode()
    return hashlib.sha256(raw).hexdigest()[:16]


def acknowledged(doc: Any) -> set[tuple[str, str, str]]:
    entries = doc.get("acknowledgements") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        return set()
    return {
        (str(e.get("code")), str(e.get("field")), str(e.get("value")))
        for e in entries
        if isinstance(e, dict) and e.get("source") in SOURCES
    }


def without_acknowledged(doc: Any, errors: list[ValidationError]) -> list[ValidationError]:
    """The errors left once acknowledged flags are taken out (a flag acknowledged by USER must be a user flag)."""
    done = acknowledged(doc)
    if not done:
        return errors
    sources = {
        (str(e.get("code")), str(e.get("field"))): e.get("source")
        for e in doc.get("acknowledgements")
        if isinstance(e, dict)
    }
    return [
        e
        for e in errors
        if not (
            (e.code, e.field, fingerprint(doc, e)) in done and is_flag(e, str(sources.get((e.code, e.field))))
        )
    ]


def acknowledge(
    doc: dict[str, Any], errors: Iterable[ValidationError], source: str, note: str = ""
) -> list[dict[str, str]]:
    """Add an acknowledgement to `doc` for each of `errors` that `source` may acknowledge; returns those added."""
    added = []
    entries = doc.setdefault("acknowledgements", [])
    for e in errors:
        if is_flag(e, source):
            entry = {"code": e.code, "field": e.field, "value": fingerprint(doc, e), "source": source}
            if note:
                entry["note"] = note[:200]
            entries[:] = [x for x in entries if (x.get("code"), x.get("field")) != (e.code, e.field)]
            entries.append(entry)
            added.append(entry)
    if not entries:
        doc.pop("acknowledgements")
    return added
