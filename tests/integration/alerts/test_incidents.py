"""Incidents stored from AlertRaised alone and from episode events; escalations reach the outbox; two
operators cannot resolve one incident twice."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from openem.alerts import queries
from openem.alerts.service import (
    IncidentConflict,
    act_on_incident,
    on_alert_for_triage,
    on_episode_for_triage,
)
from openem.bus.outbox import OutboxRow


def _alert(aid: str, kind: str, start: str, end: str | None = None) -> dict[str, Any]:
    return {"alert_id": aid, "kind": kind, "severity": "HIGH", "person_id": "P1", "order_ref": "EM-1",
            "device_id": "D1", "condition_id": "Z1", "start": start, "end": end}  # fmt: skip


@pytest.fixture
def sqlite_db(sqlite_url: str) -> Any:
    from openem.store.db import Database

    database = Database(sqlite_url)
    yield database
    database.dispose()


def test_tamper_alert_alone_escalates_once_to_the_outbox(sqlite_db: Any) -> None:
    for _ in range(2):  # redelivery changes nothing
        with sqlite_db.uow() as uow:
            on_alert_for_triage(_alert("a1", "strap_tamper", "2026-12-01T20:31:00Z"), uow)
    with sqlite_db.uow() as uow:
        msgs = list(
            uow.session.scalars(select(OutboxRow).where(OutboxRow.topic == "alerts.IncidentEscalated"))
        )
        [queued] = queries.incident_queue(uow.session)
    assert len(msgs) == 1
    inc = msgs[0].payload["incident"]
    assert inc["episode_ids"] == ["a1"] and inc["confirmed_by"] == "policy:escalate-tamper@v1"
    assert queued["incident_id"] == inc["incident_id"] and msgs[0].key == "order:EM-1"


def test_episode_events_update_one_incident_and_noise_never_queues(sqlite_db: Any) -> None:
    ep = {**_alert("e1", "no_comms", "2026-12-01T10:00:00Z"), "episode_id": "e1", "severity": "LOW",
          "revision": 0, "state": "open"}  # fmt: skip
    with sqlite_db.uow() as uow:
        on_episode_for_triage({"episode": ep}, uow)
        on_episode_for_triage(
            {"episode": {**ep, "revision": 1, "state": "closed", "end": "2026-12-01T11:00:00Z"}}, uow
        )
    with sqlite_db.uow() as uow:
        assert queries.incident_queue(uow.session) == []
        [row] = queries.incident_queue(uow.session, include_all=True)
    assert row["state"] == "suppressed" and {d["rule"] for d in row["decisions"]} >= {"route-device-fault"}


def test_two_operators_cannot_resolve_one_incident_twice(sqlite_db: Any) -> None:
    with sqlite_db.uow() as uow:
        on_alert_for_triage(
            _alert("c1", "curfew_absent", "2026-12-01T20:00:00Z", "2026-12-01T23:00:00Z"), uow
        )
    with sqlite_db.uow() as uow:
        [row] = queries.incident_queue(uow.session)
    seen = row["row_version"]
    with sqlite_db.uow() as uow:
        act_on_incident(uow, row["incident_id"], seen, "op1", "resolve", reason="reasonable_excuse")
    with pytest.raises(IncidentConflict), sqlite_db.uow() as uow:
        act_on_incident(uow, row["incident_id"], seen, "op2", "resolve", reason="no_breach")
    with sqlite_db.uow() as uow:
        final = queries.incident(uow.session, row["incident_id"])
    assert final is not None and final["resolution"] == "reasonable_excuse"
    assert [d["by"] for d in final["decisions"] if d.get("by")] == ["op1"]


def test_operator_escalation_publishes_and_bad_codes_are_refused(sqlite_db: Any) -> None:
    with sqlite_db.uow() as uow:
        on_alert_for_triage(
            _alert("c1", "curfew_absent", "2026-12-01T20:00:00Z", "2026-12-01T23:00:00Z"), uow
        )
    with sqlite_db.uow() as uow:
        [row] = queries.incident_queue(uow.session)
    with pytest.raises(ValueError, match="resolution code"), sqlite_db.uow() as uow:
        act_on_incident(uow, row["incident_id"], row["row_version"], "op1", "resolve", reason="bored")
    with sqlite_db.uow() as uow:
        act_on_incident(uow, row["incident_id"], row["row_version"], "op1", "escalate", reason="no contact")
    with sqlite_db.uow() as uow:
        [msg] = uow.session.scalars(select(OutboxRow).where(OutboxRow.topic == "alerts.IncidentEscalated"))
    assert msg.payload["incident"]["confirmed_by"] == "op1"
