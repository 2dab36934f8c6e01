"""Pure validation of an order document: `validate_order(doc, now=...)` returns a list of `ValidationError`
(stable code, field path, plain-English message); an empty list means the order may be submitted.
The catalogue of codes is docs/order-validation.md; policy bounds come from `orders/policy/<version>.json`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from openem.core.time import ensure_utc
from openem.orders import policy as policy_data
from openem.orders.rules.acknowledge import without_acknowledged
from openem.orders.rules.answers import check_condition_answers, check_party_answers, check_request_answers
from openem.orders.rules.base import Context, ValidationError, rule_failed
from openem.orders.rules.curfew import check_curfew
from openem.orders.rules.dates import check_age, check_dates, check_durations
from openem.orders.rules.parties import check_interested_parties, check_offence_and_monitoring_codes
from openem.orders.rules.people import (
    check_addresses,
    check_contact_and_adult,
    check_device_wearer,
)
from openem.orders.rules.structure import check_structure
from openem.orders.rules.thresholds import check_thresholds
from openem.orders.rules.zones import check_zones

__all__ = ["RULES", "ValidationError", "validate_order"]

Rule = Callable[[Any, Context], list[ValidationError]]

RULES: tuple[Rule, ...] = (
    check_device_wearer,
    check_contact_and_adult,
    check_addresses,
    check_interested_parties,
    check_offence_and_monitoring_codes,
    check_dates,
    check_age,
    check_durations,
    check_curfew,
    check_zones,
    check_thresholds,
    check_party_answers,
    check_condition_answers,
    check_request_answers,
)


def validate_order(
    doc: Any, *, now: datetime, policy: Mapping[str, Any] | None = None
) -> list[ValidationError]:
    """All the errors in one order document, structure first, each (code, field) reported once; flags the
    order's `acknowledgements` cover are left out (rules/acknowledge.py)."""
    structural = check_structure(doc)
    if not isinstance(doc, dict):
        return structural
    ctx = Context(now=ensure_utc(now), policy=policy or policy_data.load())
    errors = list(structural)
    for rule in RULES:
        try:
            errors.extend(rule(doc, ctx))
        except Exception:  # a rule bug must not become a 500; tests assert this never happens
            errors.append(rule_failed(rule.__name__, doc))
    seen: set[tuple[str, str]] = set()
    unique = []
    for e in errors:
        if (e.code, e.field) not in seen:
            seen.add((e.code, e.field))
            unique.append(e)
    return without_acknowledged(doc, unique)
