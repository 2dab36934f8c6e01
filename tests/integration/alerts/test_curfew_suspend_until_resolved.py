"""Suspend until resolved, as the monitoring centre and the officials see it: the home unit's readings go in
through ingest and the live engine, the episodes and alerts through the outbox to triage, breaches and notify.
"Not home" at the grace waits for the return: a wearer home in time after all (the unit's stored readings
arrive late) reaches nobody, not the queue, not an inbox, at any moment of the night; one 8 minutes late
(3 beyond the grace: a breach) reaches an operator once, at the return; one 40 minutes late reaches the
responsible official once, with the priority of the whole late return, and never sits in the queue first."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from tests.integration.alerts.test_curfew_episode_triage import _a_past_night, _order_with_a_home_unit

from openem.alerts import queries
from openem.alerts.triage import SEVERITY_POINTS
from openem.core.time import iso
from openem.telemetry.ingest import ingest_batch


class Night:
    """One wearer's curfew night sent reading by reading; after each, what reached a person is written down."""

    def __init__(self, world: Any) -> None:
        from openem.core.time import utcnow

        self.world, self.now = world, utcnow().replace(microsecond=0)
        self.ref, self.person, doc = _order_with_a_home_unit(world.db, self.now)
        self.start = _a_past_night(doc, self.now)
        self.live = world.app.state.live
        self.live.load()
        self.seq = iter(range(1, 1000))
        self.queue_seen: list[list[str]] = []  # the operator queue's rows for this order, after each reading

    def send(self, minutes: float, present: bool | None, received_after: float = 0.0) -> None:
        """A reading taken `minutes` after the curfew start (tag in range or not; None: only the unit's
        battery), received a second (or `received_after` minutes) later."""
        at = self.start + timedelta(minutes=minutes)
        msg = {"v": 1, "device_id": "HMU-CURFEW", "seq": next(self.seq), "type": "rf", "device_time": iso(at),
               "payload": {"present": present, "tag_id": "TAG-CURFEW"}}  # fmt: skip
        if present is None:
            msg |= {"type": "battery", "payload": {"level_pct": 80, "charging": True}}
        with self.world.db.uow() as uow:
            result = ingest_batch(uow.session, json.dumps([msg]).encode(), source="test",
                                  received_at=at + timedelta(seconds=1, minutes=received_after))  # fmt: skip
        assert result.accepted, result.rejections
        self.live.on_ingested(result)
        self.world.app.state.dispatcher.drain()
        self.queue_seen.append([r["incident_id"] for r in self.queue()])

    def queue(self) -> list[dict[str, Any]]:
        """What the operator queue shows (waiting for a person) for this order."""
        with self.world.db.uow() as uow:
            return [r for r in queries.incident_queue(uow.session) if r["order_ref"] == self.ref]

    def incidents(self) -> list[dict[str, Any]]:
        with self.world.db.uow() as uow:
            rows = [i for i in queries.incident_queue(uow.session, include_all=True) if i["order_ref"] == self.ref
                    and i["situation"].startswith("curfew night")]  # fmt: skip
            return [queries.incident(uow.session, i["incident_id"]) for i in rows]

    def inbox_messages(self) -> list[Any]:
        from openem.notify.tables import InboxMessageRow as m

        with self.world.db.uow() as uow:
            return [(r.inbox, r.subject_id, r.title) for r in uow.session.scalars(
                select(m).where(m.order_ref == self.ref))]  # fmt: skip

    def breaches(self) -> list[dict[str, Any]]:
        from openem.breaches.tables import BreachRow

        with self.world.db.uow() as uow:
            return [
                {"id": b.breach_id, "incident_id": b.incident_id, "urgency": b.urgency}
                for b in uow.session.scalars(select(BreachRow).where(BreachRow.order_ref == self.ref))
            ]


def test_home_in_time_after_all_reaches_no_one_at_any_moment(world):
    """Away at the grace on what had been received, then the unit's stored readings arrive: home at minute 4."""
    night = Night(world)
    night.send(-60, present=False)  # left an hour before the curfew
    night.send(6, present=None)  # the grace has passed, the tag last heard away: "not home" opens
    [inc] = night.incidents()
    assert "curfew_not_home" in inc["kinds"]  # recorded, and why it waits is written down
    assert any(d.get("action") == "suspend" and d.get("rule") == "suspend-not-home" for d in inc["decisions"])
    night.send(4, present=True, received_after=3)  # stored on the unit, sent late: home inside the grace
    night.send(30, present=True)
    assert night.queue_seen == [[], [], [], []]  # the queue never showed it, not even for one poll
    assert night.inbox_messages() == [] and night.breaches() == []
    [inc] = night.incidents()
    assert inc["state"] == "auto_closed" and not inc["needs_person"]


def test_home_8_minutes_late_waits_for_the_return_then_reaches_an_operator_once(world):
    night = Night(world)
    night.send(-60, present=False)
    night.send(6, present=False)
    assert night.queue_seen[-1] == []  # not in the queue while the wearer may still come home in policy
    night.send(8, present=True)  # home 8 minutes after the start: 3 minutes beyond the 5-minute grace
    night.send(30, present=True)
    [inc] = night.incidents()
    assert night.queue_seen == [[], [], [inc["incident_id"]], [inc["incident_id"]]]  # from the return on
    assert "curfew_late_return" in inc["kinds"] and inc["needs_person"]
    assert night.inbox_messages() == [] and night.breaches() == []  # under 10 minutes: not a breach by policy
    assert inc["priority"] == SEVERITY_POINTS[inc["severity"]]  # 8 minutes: no quarter hour yet


def test_home_40_minutes_late_reaches_the_official_once_with_the_late_returns_priority(world):
    night = Night(world)
    night.send(-60, present=False)
    for minutes in (6, 21, 36):  # away at the grace, and still away as the episode's minutes grow
        night.send(minutes, present=False)
    assert night.inbox_messages() == [] and night.breaches() == []  # suspended while it may still resolve
    night.send(40, present=True)  # home 40 minutes late
    night.send(60, present=True)
    assert all(seen == [] for seen in night.queue_seen)  # a breach by policy: no operator review first
    [inc] = night.incidents()
    assert inc["state"] == "confirmed" and "curfew_late_return" in inc["kinds"]
    # the priority is the whole 40 minutes' (severity + a point per quarter hour), not the grace's 5
    assert inc["priority"] == SEVERITY_POINTS[inc["severity"]] + 40 // 15
    [breach] = night.breaches()
    assert breach["incident_id"] == inc["incident_id"]
    messages = night.inbox_messages()
    assert messages and {subject for _, subject, _ in messages} == {breach["id"]}
    assert len({box for box, _, _ in messages}) == len(messages)  # one message per inbox: sent once
