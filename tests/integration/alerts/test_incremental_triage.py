"""Incremental triage (only the incidents one more episode can change are loaded) gives the operator the same
incidents as triaging the wearer's whole history; a device fault that arrives late still explains the curfew
incident it covers; a wearer's long history does not change what one new episode does."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from openem.alerts import queries
from openem.alerts.service import on_alert_for_triage
from openem.alerts.triage import Triage, iso

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)
KINDS = ("curfew_absent", "curfew_late_return", "exclusion_entry", "no_comms", "low_battery", "strap_tamper",
         "hmu_moved", "alcohol_contaminant", "inclusion_exit")  # fmt: skip


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Any:
    from openem.store.db import Database

    database = Database(sqlite_url)
    yield database
    database.dispose()


def _alerts(seed: int, n: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        start = T0 + timedelta(hours=rng.randrange(0, 24 * 20), minutes=rng.randrange(60))
        end = start + timedelta(minutes=rng.choice([3, 20, 90, 400]))
        out.append({"alert_id": f"A{seed}-{i}", "kind": rng.choice(KINDS), "severity": "MEDIUM",
                    "person_id": rng.choice(["P1", "P2"]), "order_ref": "", "device_id": "D1",
                    "condition_id": rng.choice(["Z1", "Z2"]), "start": iso(start), "end": iso(end),
                    "measure": {"minutes_late": (end - start).total_seconds() / 60}})  # fmt: skip
    return sorted(out, key=lambda a: (a["start"], a["alert_id"]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_incremental_triage_queues_what_a_full_replay_queues(sqlite_db: Any, seed: int) -> None:
    alerts = _alerts(seed, 60)
    for a in alerts:
        with sqlite_db.uow() as uow:
            on_alert_for_triage(a, uow)
    full = Triage()
    for a in alerts:
        full.on_alert(a)
    expected = {i.incident_id: (i.state, i.needs_person, tuple(i.episode_ids)) for i in full.finish()}
    with sqlite_db.uow() as uow:
        got = {
            r["incident_id"]: (r["state"], r["needs_person"])
            for r in queries.incident_queue(uow.session, include_all=True)
        }
        eps = {r: tuple(e["alert_id"] for e in queries.incident(uow.session, r)["episodes"]) for r in got}  # type: ignore[index]
    assert set(got) == set(expected)
    assert {k: (v[0], v[1], eps[k]) for k, v in got.items()} == expected


def test_a_late_device_fault_still_explains_the_curfew_incident_it_covers(sqlite_db: Any) -> None:
    curfew = {"alert_id": "c1", "kind": "curfew_absent", "severity": "HIGH", "person_id": "P1", "order_ref": "",
              "device_id": "D1", "condition_id": "", "start": "2026-12-01T20:00:00Z", "end": "2026-12-01T22:00:00Z"}  # fmt: skip
    fault = {
        **curfew,
        "alert_id": "f1",
        "kind": "no_comms",
        "start": "2026-12-01T19:30:00Z",
        "end": "2026-12-01T23:00:00Z",
    }
    with sqlite_db.uow() as uow:
        on_alert_for_triage(curfew, uow)
        assert [r["situation"] for r in queries.incident_queue(uow.session)] == ["curfew night 2026-12-01"]
    with sqlite_db.uow() as uow:
        on_alert_for_triage(fault, uow)
    with sqlite_db.uow() as uow:
        assert queries.incident_queue(uow.session) == []
        night = next(
            r
            for r in queries.incident_queue(uow.session, include_all=True)
            if r["situation"].startswith("curfew")
        )
    assert night["state"] == "inhibited" and any(
        d["rule"] == "inhibit-by-device-fault" for d in night["decisions"]
    )
