"""Issue 14: stock moved between depots. Devices sent are in transit (not allocatable, not fittable) until the
other depot receives them; serials unknown, of another depot or not in stock refuse the whole move with why;
every device's move is in its history and audited; the page and the command do the same."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from openem.auth.tables import AuditRow
from openem.core.errors import Conflict, Invalid
from openem.devices import queries as dq
from openem.devices import service as ds

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _stock(session: Any) -> None:
    ds.receive_stock(session, actor="store", depot="CARDIFF", at=T0,
                     devices=[{"device_id": f"RF{i}", "device_kind": "RF_TAG"} for i in range(4)])  # fmt: skip
    ds.receive_stock(session, actor="store", depot="SWANSEA", at=T0,
                     devices=[{"device_id": "SW1", "device_kind": "RF_TAG"}])  # fmt: skip
    ds.allocate(session, actor="store", device_id="RF3", officer="fo1", at=T0)


def test_a_transfer_moves_devices_through_transit_to_the_other_depot(world: Any) -> None:
    with world.db.uow() as uow:
        s = uow.session
        _stock(s)
        row = ds.send_transfer(s, actor="store", from_depot="cardiff", to_depot="Swansea",
                               device_ids=["RF0", "RF1", "RF1"], at=T0)  # fmt: skip
        assert row.devices == ["RF0", "RF1"] and dq.device(s, "RF0")["status"] == "IN_TRANSIT"  # type: ignore[index]
        with pytest.raises(Conflict, match="in transit"):
            ds.allocate(s, actor="store", device_id="RF0", officer="fo1", at=T0)
        assert dq.device(s, "RF0")["depot"] == "CARDIFF"  # type: ignore[index]  # not there until received
        ds.receive_transfer(s, actor="swansea-store", transfer_id=row.transfer_id, at=T0)
        moved = dq.device(s, "RF0")
        assert moved["status"] == "IN_STOCK" and moved["depot"] == "SWANSEA"  # type: ignore[index]
        history = [(h["from"], h["to"]) for h in dq.device_history(s, "RF1")]
        assert ("IN_STOCK", "IN_TRANSIT") in history and ("IN_TRANSIT", "IN_STOCK") in history
        ds.allocate(s, actor="store", device_id="RF0", officer="fo2", at=T0)  # allocatable again
        with pytest.raises(Conflict, match="already received"):
            ds.receive_transfer(s, actor="x", transfer_id=row.transfer_id, at=T0)
        actions = set(s.execute(select(AuditRow.action)).scalars())
        assert {f"devices:transfer:{row.transfer_id}:send", f"devices:transfer:{row.transfer_id}:receive",
                "devices:RF0:in_transit"} <= actions  # fmt: skip


def test_serials_of_another_depot_unknown_or_not_in_stock_refuse_the_whole_move(world: Any) -> None:
    with world.db.uow() as uow:
        s = uow.session
        _stock(s)
        with pytest.raises(Conflict) as refused:
            ds.send_transfer(s, actor="store", from_depot="CARDIFF", to_depot="SWANSEA",
                             device_ids=["RF0", "SW1", "NOPE", "RF3"], at=T0)  # fmt: skip
        why = str(refused.value)
        assert "Nothing was moved" in why and "SW1: belongs to depot SWANSEA, not CARDIFF" in why
        assert "NOPE: no such device" in why and "RF3: is allocated, not in stock" in why
        assert dq.device(s, "RF0")["status"] == "IN_STOCK"  # type: ignore[index]  # all or nothing
        with pytest.raises(Invalid, match="another depot"):
            ds.send_transfer(
                s, actor="store", from_depot="CARDIFF", to_depot="cardiff", device_ids=["RF0"], at=T0
            )
        with pytest.raises(Invalid, match="serials"):
            ds.send_transfer(
                s, actor="store", from_depot="CARDIFF", to_depot="SWANSEA", device_ids=[" "], at=T0
            )
        with pytest.raises(Invalid, match="No transfer"):
            ds.receive_transfer(s, actor="x", transfer_id="TR-NONE", at=T0)


def test_the_transfer_page_sends_and_receives_and_says_why_not(world: Any) -> None:
    with world.db.uow() as uow:
        _stock(uow.session)
    c = world.signed_in("demo-field-officer")  # field officers manage stock (devices:manage)
    assert "Move stock between depots" in c.get("/devices/stock").text
    page = c.get("/devices/stock/transfers")
    assert page.status_code == 200
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text).group(1)  # type: ignore[union-attr]
    bad = c.post("/devices/stock/transfers",
                 data={"csrf_token": token, "from_depot": "CARDIFF", "to_depot": "SWANSEA", "devices": "RF0\nSW1"})  # fmt: skip
    assert bad.status_code == 422 and "SW1: belongs to depot SWANSEA, not CARDIFF" in bad.text
    ok = c.post("/devices/stock/transfers",
                data={"csrf_token": token, "from_depot": "CARDIFF", "to_depot": "SWANSEA", "devices": "RF0, RF1"})  # fmt: skip
    assert ok.status_code == 200 and "its devices are in transit" in ok.text
    tid = re.search(r"Transfer (TR-[\w-]+) sent", ok.text).group(1)  # type: ignore[union-attr]
    device = c.get("/devices/RF0")
    assert "In transit between depots" in device.text
    token = re.search(r'name="csrf_token" value="([^"]*)"', device.text).group(1)  # type: ignore[union-attr]
    alone = c.post("/devices/RF0", data={"csrf_token": token, "to": "IN_STOCK", "reason": "here"})
    assert alone.status_code == 422 and "by a transfer" in alone.text  # it arrives by receiving its transfer
    got = c.post(f"/devices/stock/transfers/{tid}/receive", data={"csrf_token": token})
    assert got.status_code == 200 and f"Transfer {tid} received" in got.text
    again = c.post(f"/devices/stock/transfers/{tid}/receive", data={"csrf_token": token})
    assert again.status_code == 422 and "already received" in again.text
    with world.db.uow() as uow:
        assert dq.device(uow.session, "RF1")["depot"] == "SWANSEA"  # type: ignore[index]


def test_the_transfer_commands(sqlite_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any) -> None:
    from openem.cli import main
    from openem.store.db import Database

    monkeypatch.setenv("OPENEM_DATABASE_URL", sqlite_url)
    db = Database(sqlite_url)
    with db.uow() as uow:
        _stock(uow.session)
    db.dispose()
    assert main(["devices", "transfer", "--from", "CARDIFF", "--to", "SWANSEA", "RF0", "RF1"]) == 0
    out = capsys.readouterr().out
    assert "2 devices from CARDIFF to SWANSEA, in transit" in out
    tid = out.split(":")[0].strip()
    assert main(["devices", "transfer", "--from", "CARDIFF", "--to", "SWANSEA", "RF0"]) == 2
    assert "RF0: is in transit between depots, not in stock" in capsys.readouterr().err
    assert main(["devices", "receive-transfer", tid]) == 0
    assert f"{tid}: received at SWANSEA (2 devices)" in capsys.readouterr().out
