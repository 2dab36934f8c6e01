"""The duplicate check reads only the active orders that share an identifier or a date of birth (through the
order_match_keys index), and the index follows variations."""

from __future__ import annotations

import random
from datetime import UTC, datetime

from openem.core.time import FrozenClock
from openem.orders.repository import SqlOrderRepository
from openem.orders.rules.duplicates import match_keys
from openem.orders.samples import sample_order
from openem.orders.service import OrderService

NOW = datetime.now(UTC)


def accepted(db, doc) -> str:
    with db.uow() as uow:
        svc = OrderService(SqlOrderRepository(uow.session), FrozenClock(NOW), unit=uow)
        ref = svc.create_draft("creator", doc).record.ref
        svc.submit("creator", ref)
        svc.accept("operator", ref)
    return ref


def sharing(db, doc) -> list[str]:
    with db.uow() as uow:
        return sorted(d["ref"] for d in SqlOrderRepository(uow.session).active_documents(match_keys(doc)))


def test_only_orders_sharing_a_key_are_read_and_the_index_follows_a_variation(db) -> None:
    docs = [sample_order(NOW, random.Random(i), cohort="COURT_BAIL") for i in range(6)]
    for i, d in enumerate(docs):  # six different people
        d["device_wearer"]["date_of_birth"] = f"19{70 + i}-0{1 + i}-1{i}"
        d["device_wearer"]["pnc"] = f"2019/000000{i}A"
    refs = [accepted(db, d) for d in docs]
    with db.uow() as uow:
        assert len(list(SqlOrderRepository(uow.session).active_documents())) == 6
    probe = {"device_wearer": {"pnc": "2019/0000002a ", "date_of_birth": "1974-05-14"}}  # people 2 and 4
    assert sharing(db, probe) == sorted([refs[2], refs[4]])
    assert sharing(db, {"device_wearer": {"first_name": "Nobody"}}) == []  # no keys: nothing to compare

    with db.uow() as uow:  # person 2's PNC is corrected by a variation
        svc = OrderService(SqlOrderRepository(uow.session), FrozenClock(NOW), unit=uow)
        svc.vary("creator", refs[2])
        wearer = dict(svc.repo.get(refs[2]).latest.document["device_wearer"], pnc="2020/0000099B")
        svc.update_section("creator", refs[2], "device_wearer", wearer)
        svc.submit("creator", refs[2])
        svc.accept("operator", refs[2])
    assert sharing(db, {"device_wearer": {"pnc": "2019/0000002A"}}) == []
    assert sharing(db, {"device_wearer": {"pnc": "2020/0000099B"}}) == [refs[2]]
