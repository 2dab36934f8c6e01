"""A curfew night through the whole platform: the home unit's readings go in through ingest and the live
engine, the real episode events go through the outbox to the alerts capability, and the operator's incident
follows the episode: it is there minutes after the curfew started with the wearer away (not at their return),
its minutes grow, and it holds the closed episode when they come home."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from openem.alerts import queries
from openem.alerts.tables import AlertRow, EpisodeRow
from openem.core.time import iso
from openem.devices.service import activate
from openem.orders import lifecycle
from openem.orders.repository import SqlOrderRepository
from openem.orders.samples import sample_order
from openem.telemetry.ingest import ingest_batch

LONDON = ZoneInfo("Europe/London")


def _order_with_a_home_unit(db, now):
    doc = sample_order(now - timedelta(days=4))
    ref, person = doc.pop("ref"), doc.get("person_id") or "PER-CURFEW"
    with db.uow() as uow:
        record = lifecycle.new_draft(ref, doc, "test", now - timedelta(days=4), person)
        for action in ("submit", "accept", "activate"):
            record = lifecycle.apply(record, action, now - timedelta(days=4))
        SqlOrderRepository(uow.session).add(record)
        activate(uow.session, actor="test", activation={
            "activation_id": "ACT-HMU-CURFEW", "device_id": "HMU-CURFEW", "device_kind": "HMU",
            "order_ref": ref, "person_id": person, "start": now - timedelta(days=3)})  # fmt: skip
    return ref, person, doc


def _a_past_night(doc, now) -> datetime:
    """The start of the latest curfew window (a timetable slot, not the release day) that began at least
    three hours ago and a day after the order started."""
    slot = doc["conditions"]["curfew"]["timetable"][0]["start"]
    hh, mm = (int(x) for x in slot.split(":"))
    first = datetime.fromisoformat(doc["monitoring"]["start"].replace("Z", "+00:00")) + timedelta(days=1)
    for back in range(0, 4):
        day = (now - timedelta(days=back)).astimezone(LONDON).date()
        start = datetime(day.year, day.month, day.day, hh, mm, tzinfo=LONDON).astimezone(UTC)
        if start + timedelta(hours=3) <= now and start - timedelta(hours=2) >= first:
            return start
    raise AssertionError("no curfew night in the last days")


def test_a_late_return_opens_updates_and_closes_an_episode_and_the_incident_follows(world):
    now = datetime.now(UTC).replace(microsecond=0)
    ref, person, doc = _order_with_a_home_unit(world.db, now)
    night = _a_past_night(doc, now)
    live = world.app.state.live
    live.load()
    seq = iter(range(1, 1000))

    def send(at: datetime, present: bool) -> None:
        """The home unit reports (out of range / in range) at `at`; the server receives it a second later."""
        msg = {"v": 1, "device_id": "HMU-CURFEW", "seq": next(seq), "type": "rf", "device_time": iso(at),
               "payload": {"present": present, "tag_id": "TAG-CURFEW"}}  # fmt: skip
        with world.db.uow() as uow:
            result = ingest_batch(uow.session, json.dumps([msg]).encode(), source="test",
                                  received_at=at + timedelta(seconds=1))  # fmt: skip
        assert result.accepted, result.rejections
        live.on_ingested(result)
        world.app.state.dispatcher.drain()

    def episode_rows():
        with world.db.uow() as uow:
            return {r.kind: (r.state, r.revision, r.closed_reason, dict(r.measure), r.episode_id)
                    for r in uow.session.scalars(select(EpisodeRow).where(EpisodeRow.order_ref == ref))}  # fmt: skip

    def incident():
        with world.db.uow() as uow:
            rows = [i for i in queries.incident_queue(uow.session, include_all=True) if i["order_ref"] == ref
                    and i["situation"].startswith("curfew night")]  # fmt: skip
            return [queries.incident(uow.session, i["incident_id"]) for i in rows]

    send(night - timedelta(hours=1), present=False)  # left at 18:00 (or an hour before the curfew)
    send(night + timedelta(minutes=3), present=False)  # still away, inside the grace: nothing yet
    assert "curfew_not_home" not in episode_rows() and not incident()
    send(night + timedelta(minutes=6), present=False)  # the grace has passed with the wearer away
    state, revision, _, measure, episode_id = episode_rows()["curfew_not_home"]
    assert (state, revision) == ("open", 0) and measure["minutes_away"] >= 5
    [inc] = incident()
    assert inc["state"] != "resolved" and episode_id in [e["episode_id"] for e in inc["episodes"]]
    with world.db.uow() as uow:  # the operator sees an alert now, not at the return
        alert = uow.session.get(AlertRow, episode_id)
        assert alert is not None and alert.end is None

    send(night + timedelta(minutes=40), present=False)  # 40 minutes away: the episode says so
    state, revision, _, measure, _ = episode_rows()["curfew_not_home"]
    assert state == "open" and revision >= 1 and measure["minutes_away"] >= 30
    [inc] = incident()
    [kept] = [e for e in inc["episodes"] if e["episode_id"] == episode_id]
    assert kept["revision"] == revision and kept["state"] == "open"

    send(night + timedelta(minutes=75), present=True)  # home 75 minutes after the start
    rows = episode_rows()
    state, revision, reason, measure, _ = rows["curfew_not_home"]
    assert (state, reason) == ("closed", "returned")
    assert measure["minutes_late"] == 75.0 and measure["minutes_beyond_grace"] == 70.0
    assert rows["curfew_late_return"][0] == "closed"  # the late return is raised at the return, as before
    [inc] = incident()
    by_id = {e["episode_id"]: e for e in inc["episodes"]}
    assert by_id[episode_id]["state"] == "closed" and by_id[episode_id]["revision"] == revision
    assert {"curfew_not_home", "curfew_late_return"} <= set(inc["kinds"])
