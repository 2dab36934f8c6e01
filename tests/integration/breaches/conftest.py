"""Breaches fixtures: orders of each cohort, an incident escalated through triage, the outbox pumped through
the real registry (wiring.build_registry), so a breach is opened the way the server opens one."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openem.bus.dispatch import OutboxDispatcher, deliver_locally
from openem.bus.retry import RetryPolicy
from openem.core.time import iso
from openem.orders.samples import sample_order
from openem.orders.seeding import load_orders
from openem.wiring import build_registry

HOME = (53.80, -1.55)


def order_doc(ref: str, person: str, cohort: str, *, force: str = "WEST_YORKSHIRE", youth: bool = False,
              specials: bool = False, email: str = "probation.demo@openem.example", seed: int = 1) -> dict[str, Any]:  # fmt: skip
    doc = sample_order(datetime.now(UTC), random.Random(seed))
    doc["ref"], doc["person_id"] = ref, person
    doc["addresses"][0] |= {"lat": HOME[0], "lon": HOME[1]}
    org = {"COURT_BAIL": "POLICE", "IMMIGRATION_BAIL": "HOME_OFFICE"}.get(cohort, "PROBATION")
    doc["interested_parties"] |= {"police_area": force, "responsible_officer_email": email,
                                  "responsible_organisation": "YJS" if youth else org,
                                  "probation_region": "YORKSHIRE_AND_THE_HUMBER", "delivery_unit": "LEEDS"}  # fmt: skip
    doc["monitoring"]["cohort"] = cohort
    doc["monitoring"]["is_youth"] = youth
    doc["offence_risk"]["specials"] = specials
    return doc


def load(db, *docs: dict[str, Any]) -> None:
    with db.uow() as uow:
        active, rejected = load_orders(uow.session, list(docs), actor="test", now=datetime.now(UTC))
        assert not rejected, rejected


def pump(db, rounds: int = 10) -> int:
    registry = build_registry()
    dispatcher = OutboxDispatcher(db, lambda t, mid, p: deliver_locally(db, registry, t, mid, p),
                                  policy=RetryPolicy(max_attempts=3, base_s=0.0))  # fmt: skip
    total = 0
    for _ in range(rounds):
        n = dispatcher.run_once()
        total += n
        if n == 0:
            break
    return total


def tamper(db, order_ref: str, person: str, alert_id: str = "A1", minutes_ago: int = 20,
           evidence: list | None = None) -> None:  # fmt: skip
    """A strap tamper alert: triage escalates it at once (policy escalate-tamper) into the outbox."""
    from openem.alerts.service import on_alert_for_triage

    start = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    with db.uow() as uow:
        on_alert_for_triage({"alert_id": alert_id, "kind": "strap_tamper", "severity": "HIGH", "person_id": person,
                             "order_ref": order_ref, "device_id": "DEV-1", "condition_id": "",
                             "start": iso(start), "end": iso(start + timedelta(minutes=5)),
                             "detected_at": iso(start + timedelta(seconds=40)),
                             "evidence": evidence or []}, uow)  # fmt: skip


@pytest.fixture
def escalated(db):
    """A court bail order in West Yorkshire with an escalated strap tamper, pumped through the bus."""
    load(db, order_doc("ORD-BRBAIL001", "PER-BR-BAIL", "COURT_BAIL"))
    tamper(db, "ORD-BRBAIL001", "PER-BR-BAIL")
    pump(db)
    return db
