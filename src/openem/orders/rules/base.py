"""The error type every rule returns, the context rules run in, and defensive accessors over the raw document.

Rules read the order as plain data (dicts and lists as parsed from JSON). Wrong types are reported once by
the structure rule; every other rule treats a value of the wrong type as absent, so no rule can raise on
hostile input.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from openem.core.time import parse_instant

log = logging.getLogger("openem.orders.rules")


@dataclasses.dataclass(frozen=True, slots=True)
class ValidationError:
    """One thing to fix: a stable `code`, the `field` path (`conditions.curfew.timetable[2].end`) and a
    plain-English `message` in the GOV.UK error-message style."""

    code: str
    field: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "field": self.field, "message": self.message}


def rule_failed(rule_name: str, doc: Any) -> ValidationError:
    """A rule raised: a bug in the rule, not in the order. Log it with the traceback for whoever fixes the
    rule (call from the `except` block), and tell the user plainly that the order could not be checked."""
    ref = doc.get("ref") if isinstance(doc, dict) else None
    log.exception(
        "order validation rule %s raised on order %s",
        rule_name,
        ref,
        extra={"rule": rule_name, "order_ref": ref},
    )
    return ValidationError("rule_failed", "", f"We could not check this order ({rule_name}). Contact support")


@dataclasses.dataclass(frozen=True, slots=True)
class Context:
    now: datetime
    policy: Mapping[str, Any]


def section(doc: Any, name: str) -> dict[str, Any]:
    value = doc.get(name) if isinstance(doc, dict) else None
    return value if isinstance(value, dict) else {}


def items(doc: Any, name: str) -> list[tuple[int, dict[str, Any]]]:
    """(index, item) for the dict items of a list field; other items are skipped (structure reports them)."""
    value = doc.get(name) if isinstance(doc, dict) else None
    if not isinstance(value, list):
        return []
    return [(i, v) for i, v in enumerate(value) if isinstance(v, dict)]


def text(d: Any, key: str) -> str | None:
    """A non-blank string value, or None."""
    value = d.get(key) if isinstance(d, dict) else None
    if isinstance(value, str) and value.strip():
        return value
    return None


def flag(d: Any, key: str) -> bool | None:
    value = d.get(key) if isinstance(d, dict) else None
    return value if isinstance(value, bool) else None


def number(d: Any, key: str) -> float | None:
    value = d.get(key) if isinstance(d, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def present(d: Any, key: str) -> bool:
    """The field has a value (blank strings and empty lists count as missing)."""
    value = d.get(key) if isinstance(d, dict) else None
    if value is None:
        return False
    if isinstance(value, str | list | dict):
        return bool(value.strip() if isinstance(value, str) else value)
    return True


def instant(d: Any, key: str) -> datetime | None:
    """A parseable instant with an offset, or None (the dates rule reports unparseable ones)."""
    value = text(d, key)
    if value is None or len(value) > 40:
        return None
    try:
        return parse_instant(value)
    except (ValueError, OverflowError):
        return None


def day(d: Any, key: str) -> date | None:
    value = text(d, key)
    if value is None or len(value) != 10:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def wall_minutes(value: Any) -> int | None:
    """Minutes after midnight of an `HH:MM` Europe/London wall-clock time, or None if not a valid time."""
    if not isinstance(value, str) or len(value) != 5 or value[2] != ":":
        return None
    hh, mm = value[:2], value[3:]
    if not (hh.isascii() and mm.isascii() and hh.isdigit() and mm.isdigit()):
        return None
    h, m = int(hh), int(mm)
    if h > 23 or m > 59:
        return None
    return h * 60 + m


def path(*parts: str | int) -> str:
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += ("." if out else "") + p
    return out
