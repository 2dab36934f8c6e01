"""The activation probe (the store's change counter, migration 0028) moves with every change to the activations,
whoever makes it: an officer's fitting, an ending, the simulator's bulk load, raw SQL that leaves the counts as
they were; it stays put when nothing changed or a change was rolled back; and on PostgreSQL a writer that
commits after another is never missed, nor held up by the other's open transaction. SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import insert, select

from openem.auth.tables import AuditRow
from openem.core.errors import Conflict
from openem.devices.queries import activation_probe
from openem.devices.service import activate, end_activation, receive_stock
from openem.devices.tables import ActivationRow
from openem.field.service import record_attempt
from openem.field.tables import VisitRow

NOW = datetime.now(UTC).replace(microsecond=0)


def probe(db) -> int:
    with db.uow() as uow:
        return activation_probe(uow.session)


def _act(act_id: str, device: str, start: datetime, end: datetime | None = None) -> dict:
    return {"activation_id": act_id, "device_id": device, "device_kind": "GPS_TAG", "order_ref": "ORD-" + act_id,
            "person_id": "PER-" + act_id, "role": "WEARER", "start": start, "end": end}  # fmt: skip


def _officer_fits(db, device: str) -> None:
    """A field officer records a FITTED attempt on a fitting visit: the activation the real path makes."""
    with db.uow() as uow:
        s = uow.session
        receive_stock(s, actor="stock", depot="LEEDS", devices=[{"device_id": device, "device_kind": "GPS_TAG"}],
                      at=NOW - timedelta(days=1))  # fmt: skip
        s.add(VisitRow(visit_id="VIS-" + device, kind="FIT", order_ref="ORD-FIT", person_id="PER-FIT",
                       created_at=NOW - timedelta(hours=5), due_by=NOW + timedelta(hours=5)))  # fmt: skip
        s.flush()
        record_attempt(s, actor="fo-1", visit_id="VIS-" + device, outcome="FITTED", at=NOW - timedelta(hours=2),
                       device_id=device)  # fmt: skip


def test_every_change_to_the_activations_moves_the_probe_and_nothing_else_does(db):
    seen = [probe(db)]

    def changed() -> bool:
        now = probe(db)
        moved = now != seen[-1]
        seen.append(now)
        return moved

    assert not changed()  # reading it changes nothing
    _officer_fits(db, "GPS-FIT-1")
    assert changed()
    with db.uow() as uow:
        fitted = uow.session.execute(
            select(ActivationRow).where(ActivationRow.device_id == "GPS-FIT-1")
        ).scalar_one()
        act_id = fitted.activation_id
    assert not changed()  # nor does reading the activations

    with db.uow() as uow:
        end_activation(uow.session, actor="fo-1", activation_id=act_id, at=NOW - timedelta(minutes=10))
    assert changed()
    with db.uow() as uow:
        audited = (
            uow.session.execute(select(AuditRow.action).where(AuditRow.action.like("%:end"))).scalars().all()
        )
    assert audited == [f"devices:{act_id}:end"]
    with pytest.raises(Conflict), db.uow() as uow:
        end_activation(uow.session, actor="fo-1", activation_id=act_id, at=NOW)
    assert not changed()  # refused: nothing written

    # raw SQL that leaves how many activations there are, and how many ended, as they were: a corrected end
    with db.uow() as uow:
        uow.session.execute(sa.text("UPDATE activations SET \"end\" = :e WHERE activation_id = :a"),
                            {"e": NOW - timedelta(minutes=20), "a": act_id})  # fmt: skip
    assert changed()
    with db.uow() as uow:  # and one taken off and another put on in one transaction
        uow.session.execute(sa.text("DELETE FROM activations WHERE activation_id = :a"), {"a": act_id})
        uow.session.execute(insert(ActivationRow), [_act("SWAP", "GPS-SWAP", NOW - timedelta(hours=3), NOW)])
    assert changed()

    # the simulator's load: many fittings through the service, and a bulk insert as the benchmarks make them
    with db.uow() as uow:
        for i in range(3):
            activate(
                uow.session, actor="sim", activation=_act(f"SIM-{i}", f"GPS-SIM-{i}", NOW - timedelta(days=1))
            )
    assert changed()
    with db.uow() as uow:
        uow.session.execute(
            insert(ActivationRow), [_act(f"BULK-{i}", f"GPS-BULK-{i}", NOW) for i in range(200)]
        )
    assert changed()

    with pytest.raises(RuntimeError), db.uow() as uow:  # a change rolled back is no change
        uow.session.execute(sa.text("DELETE FROM activations"))
        raise RuntimeError("rolled back")
    assert not changed()
    with db.uow() as uow:
        assert uow.session.execute(select(sa.func.count()).select_from(ActivationRow)).scalar() == 204


@pytest.mark.postgres
def test_on_postgresql_a_writer_committing_after_another_is_seen_and_not_held_up(db_url):
    """Two fittings in flight at once: the one that began first commits last. A sequence number taken at write
    time would be lower for it than the value a reader already saw; the counter moves at each commit."""
    if not db_url.startswith("postgresql"):
        pytest.skip("concurrent writers: PostgreSQL")
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as reader, engine.connect() as first, engine.connect() as second:

            def read() -> int:
                value = reader.execute(sa.text("SELECT changes FROM activation_changes")).scalar_one()
                reader.rollback()
                return int(value)

            before = read()
            first.execute(insert(ActivationRow), [_act("FIRST", "GPS-FIRST", NOW)])  # open, not committed
            second.execute(sa.text("SET lock_timeout = '10s'"))  # held up by `first`: an error, not a hang
            second.execute(insert(ActivationRow), [_act("SECOND", "GPS-SECOND", NOW)])
            second.execute(sa.text("UPDATE activations SET start = :s WHERE activation_id = 'SECOND'"),
                           {"s": NOW - timedelta(minutes=1)})  # fmt: skip
            second.commit()
            middle = read()
            assert middle != before
            first.commit()
            after = read()
            assert after != middle
            with engine.begin() as c:  # a TRUNCATE is a change too
                c.execute(sa.text("TRUNCATE activations"))
            assert read() != after
    finally:
        engine.dispose()
