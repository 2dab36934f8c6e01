"""Noise rules and silences as data an operator writes: parsing and the checks that refuse a rule which does
not parse or which would keep a proximity, tamper or specials incident from a person. Pure (no I/O)."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from typing import Any

from openem.alerts.triage import ACTIONS, ESCALATING_TAMPER, MODES, QUIETING, Rule, condition_of

MATCH_KEYS = {"kinds": list, "conditions": list, "confidence": str, "severity": list, "max_measure": dict, "min_measure": dict,
              "closed_reasons": list, "person_flags": list}  # fmt: skip
RULE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{1,59}$")
PROTECTED_CONDITIONS = frozenset({"proximity", "tamper"})
MAX_SILENCE = timedelta(days=14)


class RuleRefused(ValueError):
    """A rule or silence that cannot be accepted; the message says why, in words for the author."""


def parse_match(text: str) -> dict[str, Any]:
    """The match expression: a JSON object with only the known keys, each of its type."""
    if len(text) > 4000:
        raise RuleRefused("The match expression is too long (at most 4,000 characters)")
    try:
        value = json.loads(text or "{}")
    except json.JSONDecodeError as exc:
        raise RuleRefused(
            f"The match expression is not valid JSON: {exc.msg} at character {exc.pos}"
        ) from None
    if not isinstance(value, dict):
        raise RuleRefused(
            'The match expression must be a JSON object, for example {"kinds": ["low_battery"]}'
        )
    for key, val in value.items():
        if key not in MATCH_KEYS:
            raise RuleRefused(f"The match expression has an unknown key {key!r}; use {', '.join(MATCH_KEYS)}")
        if not isinstance(val, MATCH_KEYS[key]):
            raise RuleRefused(f"{key!r} must be a {MATCH_KEYS[key].__name__}")
        if isinstance(val, list) and not all(isinstance(v, str) and 0 < len(v) <= 60 for v in val):
            raise RuleRefused(f"{key!r} must list words (text of 1 to 60 characters)")
        if isinstance(val, dict) and not all(
            isinstance(v, int | float) and not isinstance(v, bool) and v >= 0 for v in val.values()
        ):
            raise RuleRefused(f"{key!r} must give a number of 0 or more for each measure")
    return value


def would_quiet_protected(action: str, match: dict[str, Any]) -> str | None:
    """Why this rule could keep a proximity, tamper or specials incident from a person, or None."""
    if action not in QUIETING and action != "confirm":
        return None
    kinds, conditions = match.get("kinds"), match.get("conditions")
    if "special" in (match.get("person_flags") or []):
        return "it matches specials, who always reach a person"
    if kinds is None and conditions is None:
        return "it names no kinds or conditions, so it would match proximity and tamper alerts too"
    for k in kinds or []:
        if condition_of(k) == "proximity" or k in ESCALATING_TAMPER:
            return f"it matches {k.replace('_', ' ')}, which always reaches a person"
    for c in conditions or []:
        if c in PROTECTED_CONDITIONS:
            return f"it matches the {c} condition, which always reaches a person"
    return None


def check_rule(rule_id: str, action: str, mode: str, window: str | int, match_text: str, description: str,
               reason: str, version: int = 1) -> Rule:  # fmt: skip
    """A rule from a form, or RuleRefused with the first problem found."""
    if not RULE_ID.match(rule_id or ""):
        raise RuleRefused("The rule name must be 2 to 60 lower-case letters, digits or hyphens")
    if action not in ACTIONS:
        raise RuleRefused(f"Choose an action: one of {', '.join(ACTIONS)}")
    if mode not in MODES:
        raise RuleRefused("Choose a mode: active or monitor")
    try:
        minutes = int(str(window).strip() or 0)
    except ValueError:
        raise RuleRefused("The window must be a whole number of minutes") from None
    if not 0 <= minutes <= 7 * 24 * 60:
        raise RuleRefused("The window must be between 0 minutes and 7 days")
    if not reason.strip():
        raise RuleRefused("Give the reason for this change")
    match = parse_match(match_text)
    why = would_quiet_protected(action, match)
    if why:
        raise RuleRefused(f"This rule would keep incidents from a person: {why}")
    return Rule(rule_id, version, match, action, minutes, mode, description[:200])


def check_silence(match: dict[str, Any], starts: datetime, ends: datetime, reason: str) -> None:
    """A silence needs a reason, a person or an order to hold, an end after its start and at most 14 days."""
    if not reason.strip():
        raise RuleRefused("Give the reason for the silence")
    if not (match.get("person_id") or match.get("order_ref")):
        raise RuleRefused("A silence must name the person or the order it holds back")
    if ends <= starts:
        raise RuleRefused("The silence must end after it starts")
    if ends - starts > MAX_SILENCE:
        raise RuleRefused("A silence can last at most 14 days")
    for k in match.get("kinds") or []:
        if condition_of(k) == "proximity" or k in ESCALATING_TAMPER:
            raise RuleRefused(f"A silence cannot hold back {k.replace('_', ' ')}: it always reaches a person")
