"""The unit of work owns events and audit: what a service adds is written in the unit's own commit (events to
the outbox, audit rows to the chained log), with no install step and nothing for the caller to forget."""

import dataclasses

import pytest
from sqlalchemy import select

from openem.auth.audit import verify_chain
from openem.auth.tables import AuditRow
from openem.bus.messages import Event, message_type
from openem.bus.outbox import OutboxRow
from openem.core.time import utcnow
from openem.orders.repository import SqlOrderRepository
from openem.orders.samples import sample_order
from openem.orders.service import OrderService


@message_type
@dataclasses.dataclass(frozen=True)
class ParcelSent(Event):
    topic = "test.ParcelSent"
    parcel_id: str


def test_an_event_reaches_the_outbox_without_installing_anything(db):
    with db.uow() as uow:  # a fresh Database: nobody called outbox.install(db)
        uow.add_event(ParcelSent("P1"))
    with db.uow() as uow:
        rows = uow.session.execute(select(OutboxRow)).scalars().all()
    assert [(r.topic, r.payload["parcel_id"]) for r in rows] == [("test.ParcelSent", "P1")]


def test_a_service_s_events_and_audit_are_written_without_the_caller_committing_them(db):
    doc = sample_order(utcnow())
    doc.pop("ref", None)
    with db.uow() as uow:
        service = OrderService(SqlOrderRepository(uow.session), unit=uow)
        ref = service.create_draft("creator-1", doc).record.ref
        service.submit("creator-1", ref)  # the caller only ends the unit of work
    with db.uow() as uow:
        actions = [(a.action, a.actor, a.records) for a in uow.session.execute(select(AuditRow)).scalars()]
        topics = list(uow.session.execute(select(OutboxRow.topic)).scalars())
        chain = verify_chain(uow.session)
    assert (f"orders:{ref}:create", "creator-1", [ref]) in actions
    assert (f"orders:{ref}:submit", "creator-1", [ref]) in actions
    assert topics == ["orders.OrderSubmitted"]
    assert chain.ok


def test_a_unit_of_work_that_fails_writes_neither_its_events_nor_its_audit(db):
    with pytest.raises(RuntimeError), db.uow() as uow:
        OrderService(SqlOrderRepository(uow.session), unit=uow).create_draft("creator-1", {})
        uow.add_event(ParcelSent("P2"))
        raise RuntimeError("the request failed")
    with db.uow() as uow:
        assert uow.session.execute(select(AuditRow)).first() is None
        assert uow.session.execute(select(OutboxRow)).first() is None
