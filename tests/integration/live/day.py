"""The simulated day the restart tests send (openem.sim: 40 wearers, seed 11), cut into 500-message batches
as a gateway would send them, and fresh databases to send it into (SQLite or PostgreSQL, like `db_url`)."""

import functools
import json
from datetime import UTC, datetime

from sqlalchemy import select
from tests.conftest import _drop_pg, _pg_database, _sqlite_copy

from openem.bus import outbox
from openem.bus.outbox import OutboxRow
from openem.core.time import parse_instant
from openem.demo_fleet import load_world_into
from openem.sim import generate_world
from openem.sim.stream import table_to_wire
from openem.store.db import Database

BATCH = 500
LOADED_AT = datetime.now(UTC).replace(microsecond=0)


@functools.lru_cache(maxsize=1)
def world():
    return generate_world(wearers=40, days=1, seed=11)


@functools.lru_cache(maxsize=1)
def batches() -> list[tuple[bytes, datetime]]:
    """(body, the instant the server receives it): the receive time of its newest message, so that a run in
    this process does not depend on the wall clock."""
    wire = list(table_to_wire(world().telemetry.sort_by("receive_time")))
    out = []
    for i in range(0, len(wire), BATCH):
        chunk = wire[i : i + BATCH]
        rx = max(parse_instant(m["receive_time"]) for m in chunk)
        body = [{k: v for k, v in m.items() if k != "receive_time"} for m in chunk]  # the server stamps it
        out.append((json.dumps(body).encode(), rx))
    return out


class Stores:
    """Fresh migrated databases of the kind `db_url` is, each with the day's orders, devices and activations."""

    def __init__(self, db_url, tmp_path):
        self.sqlite = db_url.startswith("sqlite")
        self.tmp_path, self.made = tmp_path, []

    def new(self):
        if self.sqlite:
            where = self.tmp_path / f"store{len(self.made)}"
            where.mkdir()
            url = _sqlite_copy(where)
        else:
            url = _pg_database()
        db = Database(url)
        outbox.install(db)
        self.made.append((db, url))
        _, token = load_world_into(db, world(), LOADED_AT)
        return db, url, token

    def close(self):
        for db, url in self.made:
            db.dispose()
            if not self.sqlite:
                _drop_pg(url)


def published(db) -> dict[str, str]:
    """alert id -> kind of every alert the engine published (the alerts store keeps each id once)."""
    with db.uow() as uow:
        rows = uow.session.execute(
            select(OutboxRow.payload).where(OutboxRow.topic == "monitoring.AlertRaised")
        )
        return {p["alert_id"]: p["kind"] for p in rows.scalars()}
