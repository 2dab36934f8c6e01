"""Week-scale breach benchmark: a simulated week's alerts go through the real server path (triage in the
store, the outbox dispatcher thread, breaches opening each escalated incident and making its pack, notify
putting it in the responsible inbox) on SQLite, and we measure, per breach:

- confirmation -> pack delivered to the responsible inbox (wall clock: the escalation's outbox row is
  written when triage commits the confirmation; the breach's `delivered_at` is stamped by notify);
- pack generation (the bus handler's `issue_pack`: queries, trail, device health, HTML and PDF).

Peer in the same run: today's contract, where the pack is due by 12:00 the day after the 07:00-06:59
violation period ends, for the same violations (hours after the violation started, in simulated time).

Pacing: the week is fed hour by hour; **all of a simulated hour's alerts arrive at once** (a burst harsher
than the real spread) and the next hour starts when every breach so far is in its inbox, so queueing within
an hour counts against openem. Only the people with an escalated incident (found by an offline triage run
first) have their orders, positions and device messages loaded; everyone's alerts are fed.

    PYTHONPATH=src python -m openem.cli sim generate --wearers 1000 --days 7 --seed 11 --out W
    PYTHONPATH=src python -m openem.cli monitor replay --world W --out A.jsonl
    PYTHONPATH=src python benchmarks/breach_week.py --world W --alerts A.jsonl [--hours N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))] if xs else float("nan")


def read_jsonl(path: str) -> list[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def main() -> None:  # noqa: C901, PLR0915 - one benchmark, read top to bottom
    ap = argparse.ArgumentParser()
    ap.add_argument("--world", required=True)
    ap.add_argument("--alerts", required=True, help="monitor replay output (A.jsonl)")
    ap.add_argument(
        "--hours",
        type=int,
        default=0,
        help="only the first N hours of the world's week, with the alerts dated before it, and only the telemetry and people those hours need (0: all)",
    )
    args = ap.parse_args()
    load_start = os.getloadavg()

    import pyarrow.compute as pc
    import pyarrow.dataset as ds
    import pyarrow.parquet as pq
    from sqlalchemy import insert, select

    from openem.alerts.service import on_alert_for_triage
    from openem.alerts.triage import Triage, person_flags_from_order
    from openem.breaches import queries, rules, service
    from openem.breaches.tables import BreachRow
    from openem.bus.dispatch import OutboxDispatcher, deliver_locally
    from openem.bus.outbox import OutboxRow
    from openem.bus.retry import RetryPolicy
    from openem.orders.seeding import load_orders
    from openem.store.db import Database
    from openem.store.migrate import upgrade
    from openem.telemetry.tables import TelemetryMessageRow, TrailPointRow
    from openem.web.rendering import as_datetime
    from openem.wiring import build_registry

    docs = read_jsonl(os.path.join(args.world, "orders.jsonl"))
    alerts = sorted(
        [{**a, "alert_id": a.get("alert_id") or a.get("id")} for a in read_jsonl(args.alerts)],
        key=lambda a: (str(a.get("start")), str(a["alert_id"])),
    )
    # 1. who gets a breach: the same triage, offline
    flags: dict[str, frozenset[str]] = {}
    for d in docs:
        flags[str(d.get("person_id"))] = flags.get(
            str(d.get("person_id")), frozenset()
        ) | person_flags_from_order(d)
    offline = Triage(person_flags=flags)
    for a in alerts:
        offline.on_alert(a)
    offline.finish()
    hours: dict[str, list[dict[str, Any]]] = {}
    for a in alerts:
        hours.setdefault(str(a.get("start"))[:13], []).append(a)
    keys = sorted(hours)
    if args.hours:  # the first N hours of the world's week (and the few alerts dated before it, all at once)
        manifest = json.load(open(os.path.join(args.world, "manifest.json"), encoding="utf-8"))
        world_start = datetime.fromisoformat(str(manifest["start"]).split(" ")[0]).replace(tzinfo=LONDON)
        last = (world_start + timedelta(hours=args.hours - 1)).astimezone(UTC).strftime("%Y-%m-%dT%H")
        keys = [h for h in keys if h <= last]
    # with --hours, only the people escalated within those hours, and telemetry up to an hour after the last
    until = datetime.fromisoformat(keys[-1] + ":00:00+00:00") + timedelta(hours=2) if keys else None
    people = {str(e.get("person_id")) for e in offline.escalations
              if until is None or not args.hours or str(e.get("opened_at") or "")[:13] <= keys[-1]}  # fmt: skip
    print(f"{len(alerts):,} alerts, {len(offline.escalations):,} escalations offline, {len(people):,} people "
          f"escalated in the {len(keys)} hours fed")  # fmt: skip

    tmp = tempfile.mkdtemp(prefix="breach-week-")
    url = f"sqlite:///{tmp}/week.db"
    upgrade(url)
    db = Database(url)
    t0 = time.perf_counter()
    with db.uow() as uow:
        load_orders(uow.session, docs, actor="bench", now=datetime.now(UTC))
    acts = pq.read_table(os.path.join(args.world, "activations.parquet")).to_pylist()
    person_of = {
        a["device_id"]: (a["person_id"], a["activation_id"]) for a in acts if a["person_id"] in people
    }
    tel = ds.dataset(os.path.join(args.world, "telemetry"), format="parquet")
    wanted = pc.field("device_id").isin(sorted(person_of))
    if args.hours and until is not None:
        wanted = wanted & (pc.field("device_time") <= pc.scalar(until))
    table = tel.to_table(filter=wanted)
    cols = table.to_pydict()
    payload_cols = [c for c in cols if c not in ("device_id", "seq", "type", "device_time", "receive_time")]
    trail_rows, message_rows = [], []
    seen: set[tuple[str, int]] = set()
    for i in range(table.num_rows):
        dev = cols["device_id"][i]
        if (dev, cols["seq"][i]) in seen:  # the world sends some messages twice (the store keeps the first)
            continue
        seen.add((dev, cols["seq"][i]))
        pid, act = person_of[dev]
        payload = {c: cols[c][i] for c in payload_cols if cols[c][i] is not None}
        message_rows.append({"device_id": dev, "seq": cols["seq"][i], "type": cols["type"][i],
                             "device_time": cols["device_time"][i], "receive_time": cols["receive_time"][i],
                             "payload": payload, "flags": [], "activation_id": act, "person_id": pid, "batch_id": 1})  # fmt: skip
        if cols["type"][i] == "gps" and cols["lat"][i] is not None:
            trail_rows.append({"device_id": dev, "seq": cols["seq"][i], "person_id": pid, "activation_id": act,
                               "device_time": cols["device_time"][i], "lat": cols["lat"][i], "lon": cols["lon"][i],
                               "accuracy_m": cols["accuracy_m"][i]})  # fmt: skip
    with db.uow() as uow:
        for k in range(0, len(message_rows), 20_000):
            uow.session.execute(insert(TelemetryMessageRow), message_rows[k : k + 20_000])
        for k in range(0, len(trail_rows), 20_000):
            uow.session.execute(insert(TrailPointRow), trail_rows[k : k + 20_000])
    print(f"loaded {len(docs):,} orders, {len(message_rows):,} messages, {len(trail_rows):,} positions in "
          f"{time.perf_counter() - t0:.0f} s")  # fmt: skip

    # time every pack the bus handler makes (the whole issue_pack: queries, trail, health, HTML, PDF)
    pack_times: list[float] = []
    real_issue = service.issue_pack

    def timed_issue(*a: Any, **kw: Any) -> Any:
        s = time.perf_counter()
        try:
            return real_issue(*a, **kw)
        finally:
            pack_times.append(time.perf_counter() - s)

    service.issue_pack = timed_issue  # type: ignore[assignment]
    registry = build_registry()
    dispatcher = OutboxDispatcher(db, lambda t, mid, p: deliver_locally(db, registry, t, mid, p),
                                  policy=RetryPolicy(max_attempts=3, base_s=0.0))  # fmt: skip
    dispatcher.start(interval_s=0.2)
    run0 = time.perf_counter()
    try:
        for h in keys:
            for a in hours[h]:
                with db.uow() as uow:
                    on_alert_for_triage(a, uow)
                    uow.after_commit(dispatcher.wake)
            deadline = time.monotonic() + 900
            while time.monotonic() < deadline:
                with db.uow() as uow:
                    esc = uow.session.scalar(select(OutboxRow.seq).where(OutboxRow.topic == "alerts.IncidentEscalated",
                                                                       OutboxRow.delivered_at.is_(None)).limit(1))  # fmt: skip
                    waiting = uow.session.scalar(
                        select(BreachRow.breach_id).where(BreachRow.delivered_at.is_(None)).limit(1)
                    )
                if esc is None and waiting is None:
                    break
                time.sleep(0.2)
    finally:
        dispatcher.stop()
    run_s = time.perf_counter() - run0
    with db.uow() as uow:
        breaches = queries.breaches_where(uow.session, limit=100_000)
        confirmed_wall = {
            str((r.payload.get("incident") or {}).get("incident_id"))[:40]: r.created_at
            for r in uow.session.scalars(
                select(OutboxRow).where(OutboxRow.topic == "alerts.IncidentEscalated")
            )
        }
    to_inbox = [(b["delivered_at"] - confirmed_wall[b["incident_id"]]).total_seconds() for b in breaches
                if b["delivered_at"] and b["incident_id"] in confirmed_wall]  # fmt: skip
    contract = [(rules.violation_period(b["violation_start"]).pack_due - b["violation_start"]).total_seconds() / 3600
                for b in breaches]  # fmt: skip
    by_agency: dict[str, int] = {}
    for b in breaches:
        by_agency[b["agency"]] = by_agency.get(b["agency"], 0) + 1
    load = os.getloadavg()
    fed = sum(len(hours[h]) for h in keys)
    print(
        f"hours fed: {len(keys)} ({fed:,} alerts) in {run_s:.0f} s; breaches {len(breaches):,} "
        f"({', '.join(f'{k} {v}' for k, v in sorted(by_agency.items()))}); delivered {len(to_inbox):,}"
    )
    print(f"load at start {load_start[0]:.1f} {load_start[1]:.1f}; at end {load[0]:.1f} {load[1]:.1f}")
    print("| measure | openem | today's contract |")
    print("| --- | --- | --- |")
    print(f"| confirmation -> pack in the responsible inbox, p50 / p95 / max (s) | {statistics.median(to_inbox):.2f} / "
          f"{p95(to_inbox):.2f} / {max(to_inbox):.2f} | pack due {statistics.median(contract):.0f} h (median; "
          f"{min(contract):.0f}-{max(contract):.0f} h) after the violation started |")  # fmt: skip
    print(f"| pack generation in the bus handler, p50 / p95 / max (s), PDF included | "
          f"{statistics.median(pack_times):.2f} / {p95(pack_times):.2f} / {max(pack_times):.2f} | |")  # fmt: skip
    _ = as_datetime


if __name__ == "__main__":
    main()
