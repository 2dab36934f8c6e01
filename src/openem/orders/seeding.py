"""Orders made elsewhere loaded as they stand (the demo's simulated world): a clean order submitted, accepted
and active; one with defects left a draft for a person to correct. Orders' own entry point, so that the
composition level need not reach into the order tables."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from openem.orders import lifecycle
from openem.orders.repository import SqlOrderRepository


def load_orders(
    session: Session, docs: Iterable[dict[str, Any]], *, actor: str, now: datetime
) -> tuple[set[str], int]:
    """(refs made active, count left as drafts with errors); an order already stored is left alone."""
    repo = SqlOrderRepository(session)
    active: set[str] = set()
    with_errors = 0
    for doc in docs:
        doc = dict(doc)
        ref = doc.pop("ref")
        defects = doc.pop("defects", [])
        if repo.get(ref) is not None:
            continue
        record = lifecycle.new_draft(ref, doc, actor, now, doc.get("person_id"))
        if not defects:
            for action in ("submit", "accept", "activate"):
                record = lifecycle.apply(record, action, now)
            active.add(ref)
        else:
            with_errors += 1
        repo.add(record)
    return active, with_errors
