"""Ingest stays as fast with millions of stored messages as with none: no statement it runs reads the whole
telemetry store (each is searched through an index), on SQLite and PostgreSQL. The same for the lookup of an
alert's evidence. Checked with each store's EXPLAIN on the statements actually sent, not with timings."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event

from openem.core.time import iso
from openem.devices.service import activate
from openem.telemetry.ingest import ingest_batch
from openem.telemetry.queries import messages_by_key

T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
TABLES = ("telemetry_messages", "trail_points", "activations", "telemetry_batches")


def gps(device: str, seq: int) -> dict[str, Any]:
    return {
        "v": 1,
        "device_id": device,
        "seq": seq,
        "type": "gps",
        "device_time": iso(T0 + timedelta(seconds=seq)),
        "payload": {"lat": 53.8, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS"},
    }


@contextmanager
def statements_sent(db: Any) -> Iterator[list[tuple[str, Any]]]:
    sent: list[tuple[str, Any]] = []

    def capture(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        many = executemany and isinstance(parameters, list)  # insertmanyvalues sends one flat tuple
        sent.append((statement, parameters[0] if many else parameters))

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        yield sent
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)


def whole_table_reads(db: Any, sent: list[tuple[str, Any]]) -> list[str]:
    """Plan lines that read one of the telemetry tables from end to end."""
    bad = []
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        if not db.is_sqlite:
            cur.execute("SET enable_seqscan = off")  # so that a tiny table does not hide a missing index
        for statement, params in sent:
            if not statement.lstrip().upper().startswith(("SELECT", "INSERT", "UPDATE", "DELETE")):
                continue
            cur.execute(("EXPLAIN QUERY PLAN " if db.is_sqlite else "EXPLAIN ") + statement, params)
            for row in cur.fetchall():
                line = str(row[-1] if db.is_sqlite else row[0])
                if any(f"SCAN {t}" in line or f"Seq Scan on {t}" in line for t in TABLES):
                    bad.append(f"{line}  <-  {statement[:160]}")
        raw.rollback()
    finally:
        raw.close()
    return bad


def ingest(db: Any, batch: list[dict[str, Any]]) -> dict[str, Any]:
    with db.uow() as uow:
        return ingest_batch(uow.session, json.dumps(batch).encode(), source="http", sender="gw").summary()


def with_fleet(db: Any) -> None:
    with db.uow() as uow:
        for i in range(3):
            activate(
                uow.session,
                actor="test",
                activation={
                    "activation_id": f"ACT-{i}",
                    "device_id": f"GPS-{i}",
                    "device_kind": "GPS_TAG",
                    "order_ref": f"ORD-{i}",
                    "person_id": f"PER-{i}",
                    "start": T0 - timedelta(days=1),
                },
            )
    ingest(db, [gps(f"GPS-{i}", s) for i in range(3) for s in range(50)])  # a store that is not empty


def check(db: Any, work: Callable[[], Any]) -> Any:
    with statements_sent(db) as sent:
        out = work()
    assert sent
    assert whole_table_reads(db, sent) == []
    return out


def test_storing_a_batch_searches_the_store_by_index(db):
    with_fleet(db)
    fresh = [gps(f"GPS-{i}", 100 + s) for i in range(3) for s in range(5)] + [gps("GPS-UNKNOWN", 1)]
    summary = check(db, lambda: ingest(db, fresh))
    assert summary["accepted"] == 16 and summary["duplicates"] == 0 and summary["no_activation"] == 1


def test_a_resent_batch_is_recognised_by_index_and_nothing_is_stored_twice(db):
    with_fleet(db)
    resent = [gps("GPS-0", s) for s in range(10)] + [gps("GPS-0", 200)]
    summary = check(db, lambda: ingest(db, resent))
    assert summary["accepted"] == 1 and summary["duplicates"] == 10
    again = ingest(db, resent)
    assert again["accepted"] == 0 and again["duplicates"] == 11


def test_an_alerts_evidence_is_looked_up_by_index(db):
    with_fleet(db)
    keys = [("GPS-0", 3), ("GPS-0", 4), ("GPS-2", 49), ("GPS-9", 1)]

    def lookup() -> list[tuple[str, int]]:
        with db.uow() as uow:
            return sorted((m.device_id, m.seq) for m in messages_by_key(uow.session, keys))

    assert check(db, lookup) == [("GPS-0", 3), ("GPS-0", 4), ("GPS-2", 49)]
