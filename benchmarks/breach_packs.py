"""Breach pack benchmark: pack generation p95 (PDF included; target < 2 s) and violation -> pack delivered to the
responsible inbox and by email (target < 2 min after confirmation), through the real path: triage escalates a
tamper into the outbox, the outbox dispatcher (a thread, as in the server) opens the breach and makes the pack,
notify puts it in the inbox and the deliverer (a thread) sends the email to a real local SMTP server.

Peers in the same run: (1) a "full-period" pack carrying every position of the 24-hour violation period in its
annex (today's packs are "lengthy"), rendered by the same code; (2) today's contract, where the pack is due by
12:00 two days after the violation period ends (29-53 hours), for the same violations.

    PYTHONPATH=src python benchmarks/breach_packs.py [--breaches 30] [--points-per-min 1]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))


def p95(xs: list[float]) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(0.95 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--breaches", type=int, default=30)
    ap.add_argument(
        "--points-per-min", type=float, default=1.0, help="GPS fixes per minute in the trail store"
    )
    args = ap.parse_args()
    load_start = os.getloadavg()

    from tests.integration.breaches.conftest import order_doc
    from tests.integration.notify.conftest import Mailbox, free_port

    from openem.alerts.service import on_alert_for_triage
    from openem.breaches import queries, rules, service
    from openem.bus.dispatch import OutboxDispatcher, deliver_locally
    from openem.bus.retry import RetryPolicy
    from openem.core.time import iso
    from openem.notify.service import Backoff, Deliverer, SmtpSettings, add_channel
    from openem.orders.seeding import load_orders
    from openem.store.db import Database
    from openem.store.migrate import upgrade
    from openem.telemetry.tables import TrailPointRow
    from openem.wiring import build_registry

    tmp = tempfile.mkdtemp(prefix="breach-bench-")
    url = f"sqlite:///{tmp}/bench.db"
    upgrade(url)
    db = Database(url)
    rng = random.Random(7)
    now = datetime.now(UTC).replace(microsecond=0)
    cohorts = ["COURT_BAIL", "POST_RELEASE", "COURT_SENTENCE", "IMMIGRATION_BAIL"]
    docs = [
        order_doc(f"ORD-BENCH{i:05d}", f"PER-BENCH-{i:05d}", cohorts[i % 4], seed=i)
        for i in range(args.breaches)
    ]
    with db.uow() as uow:
        load_orders(uow.session, docs, actor="bench", now=now)
        teams = {rules.route_breach(d, service.ROUTING).team for d in docs}
        for team in sorted(teams):
            add_channel(uow, team, "email", "duty@agency.example", actor="bench")
    # a day of positions per person (the trail store), a wandering walk around home
    step = timedelta(seconds=60 / args.points_per_min)
    with db.uow() as uow:
        for d in docs:
            lat, lon = 53.8 + rng.uniform(-0.05, 0.05), -1.55 + rng.uniform(-0.05, 0.05)
            t, seq = now - timedelta(hours=24), 0
            rows = []
            while t < now:
                lat += rng.uniform(-0.0004, 0.0004)
                lon += rng.uniform(-0.0006, 0.0006)
                rows.append(TrailPointRow(device_id=f"DEV-{d['person_id']}", seq=seq, person_id=d["person_id"],
                                          activation_id="ACT", device_time=t, lat=lat, lon=lon, accuracy_m=8.0))  # fmt: skip
                t, seq = t + step, seq + 1
            uow.session.add_all(rows)
    smtp = Mailbox(free_port())
    smtp.start()
    registry = build_registry()
    dispatcher = OutboxDispatcher(db, lambda t, mid, p: deliver_locally(db, registry, t, mid, p),
                                  policy=RetryPolicy(max_attempts=3, base_s=0.0))  # fmt: skip
    deliverer = Deliverer(
        db, SmtpSettings("127.0.0.1", smtp.port, "centre@openem.example", 10.0), Backoff(1, 30)
    )
    dispatcher.start(interval_s=0.2)
    deliverer.start(interval_s=0.2)
    started = {}
    try:
        for i, d in enumerate(docs):
            start = now - timedelta(minutes=rng.randint(3, 40))
            with db.uow() as uow:
                on_alert_for_triage({"alert_id": f"BENCH-{i}", "kind": "strap_tamper", "severity": "HIGH",
                                     "person_id": d["person_id"], "order_ref": d["ref"], "device_id": f"DEV-{d['person_id']}",
                                     "condition_id": "", "start": iso(start), "end": iso(start + timedelta(minutes=2)),
                                     "detected_at": iso(datetime.now(UTC)), "evidence": []}, uow)  # fmt: skip
                uow.after_commit(dispatcher.wake)
            dispatcher.wake()
            started[d["ref"]] = start
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            with db.uow() as uow:
                done = [b for b in queries.breaches_where(uow.session) if b["delivered_at"]]
            if len(done) >= len(docs) and len(smtp.messages) >= len(docs):
                break
            time.sleep(0.5)
    finally:
        dispatcher.stop()
        deliverer.stop()
    from openem.notify import queries as nq

    with db.uow() as uow:
        breaches = queries.breaches_where(uow.session)
        email_at = {b["breach_id"]: min((x["delivered_at"] for x in nq.deliveries(uow.session, b["breach_id"])
                                         if x["delivered_at"]), default=None) for b in breaches}  # fmt: skip
    to_pack = [(b["pack_at"] - b["confirmed_at"]).total_seconds() for b in breaches if b["pack_at"]]
    to_inbox = [
        (b["delivered_at"] - b["confirmed_at"]).total_seconds() for b in breaches if b["delivered_at"]
    ]
    to_email = [
        (email_at[b["breach_id"]] - b["confirmed_at"]).total_seconds()
        for b in breaches
        if email_at[b["breach_id"]]
    ]
    contract = [(rules.violation_period(b["violation_start"]).pack_due - b["violation_start"]).total_seconds() / 3600
                for b in breaches]  # fmt: skip

    # pack generation alone, on the same breaches: openem's pack, then the full-period peer
    def gen(full: bool, annex_table: bool = False) -> tuple[list[float], list[int]]:
        from openem.telemetry.queries import trail_of_person

        times, sizes = [], []
        for b in breaches:
            with db.uow() as uow:
                eps = service._episodes(uow.session, {"incident_id": b["incident_id"]})
                doc = service._order_doc(uow.session, b["order_ref"])
                t0 = time.perf_counter()
                if full:
                    period = rules.violation_period(b["violation_start"])
                    trail = service._norm_trail(
                        trail_of_person(uow.session, b["person_id"], period.start, period.end)
                    )
                    evidence: list = []
                    health: dict = {}
                else:
                    trail, evidence = service.gather(uow.session, b, eps, now)
                    health = service.device_health(uow.session, b, eps, now)
                prev = service.previous_breaches(
                    uow.session, b["person_id"], b["confirmed_at"], b["breach_id"]
                )
                pack = service.make_pack(
                    b,
                    doc,
                    eps,
                    trail,
                    evidence,
                    prev,
                    service.stamps_of_dict(b),
                    9,
                    now,
                    annex_table=annex_table,
                    health_at=health,
                )
                times.append(time.perf_counter() - t0)
                sizes.append(len(pack.pdf))
        return times, sizes

    # interleaved rounds so that the machine's load falls on both alike
    ours, our_sizes, old, old_sizes = [], [], [], []
    for _ in range(2):
        t, z = gen(False)
        ours, our_sizes = ours + t, our_sizes + z
        t, z = gen(False, annex_table=True)
        old, old_sizes = old + t, old_sizes + z
    peer, peer_sizes = gen(True)
    smtp.stop()
    load = os.getloadavg()
    print(f"load at start {load_start[0]:.1f} {load_start[1]:.1f}")
    print(
        f"breaches: {len(breaches)} (of {len(docs)}), emails received: {len(smtp.messages)}; load {load[0]:.1f} {load[1]:.1f}"
    )
    print("| measure | openem | peer |")
    print("| --- | --- | --- |")
    print(f"| pack generation p50 / p95 (s), PDF included | {statistics.median(ours):.2f} / {p95(ours):.2f} | "
          f"{statistics.median(peer):.2f} / {p95(peer):.2f} (full-period pack) |")  # fmt: skip
    print(f"| pack generation p50 / p95 (s), old code path (annex positions as a table) | {statistics.median(old):.2f} / "
          f"{p95(old):.2f} | |")  # fmt: skip
    print(
        f"| PDF size median (kB) | {statistics.median(our_sizes) / 1024:.0f} | {statistics.median(peer_sizes) / 1024:.0f} |"
    )
    print(
        f"| confirmation -> pack made, p50 / p95 (s), in the bus handler | {statistics.median(to_pack):.2f} / {p95(to_pack):.2f} | |"
    )
    print(f"| confirmation -> in the responsible inbox, p50 / p95 (s) | {statistics.median(to_inbox):.2f} / {p95(to_inbox):.2f} | "
          f"today's contract: pack due {min(contract):.0f}-{max(contract):.0f} h after the violation |")  # fmt: skip
    if to_email:
        print(
            f"| confirmation -> email accepted by SMTP, p50 / p95 (s) | {statistics.median(to_email):.2f} / {p95(to_email):.2f} | |"
        )


if __name__ == "__main__":
    main()
