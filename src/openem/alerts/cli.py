"""`openem triage replay --world DIR --out DIR`: a simulated world through the engine and triage, no server."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("triage", help="triage: incidents from alerts, noise rules, escalations")
    sub = p.add_subparsers(dest="triage_command", metavar="SUBCOMMAND")
    r = sub.add_parser("replay", help="deterministic replay: incidents.jsonl and escalations.jsonl")
    r.add_argument("--world", help="a world directory (openem sim generate --out DIR)")
    r.add_argument("--alerts", help="alerts JSON Lines from `openem monitor replay` (skips the engine run)")
    r.add_argument("--out", required=True, help="directory to write incidents.jsonl and escalations.jsonl")
    r.set_defaults(func=_replay)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _read_jsonl(path: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.strip()
            if not line:
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                rows.append(value)
    return rows


def _replay(args: argparse.Namespace) -> int:
    from openem.alerts.triage import Triage, person_flags_from_order

    if not (args.world or args.alerts):
        print("give --world DIR or --alerts FILE", file=sys.stderr)
        return 2
    flags: dict[str, frozenset[str]] = {}
    orders_path = args.world and os.path.join(args.world, "orders.jsonl")
    if orders_path and os.path.exists(orders_path):
        for doc in _read_jsonl(orders_path):
            pid = str(doc.get("person_id") or (doc.get("person") or {}).get("person_id") or "")
            if pid:
                flags[pid] = flags.get(pid, frozenset()) | person_flags_from_order(doc)
    table = None
    if args.alerts:
        alerts = _read_jsonl(args.alerts)
    else:
        from openem.monitoring import replay as rp
        from openem.monitoring.replay_input import Rejections

        rejected = Rejections()
        table = rp.read_telemetry(os.path.join(args.world, "telemetry"), rejected)
        docs = rp.read_orders(os.path.join(args.world, "orders.jsonl"), rejected)
        acts = rp.read_activations(os.path.join(args.world, "activations.parquet"))
        alerts, _ = rp.replay(docs, acts, table, 3600.0, until=rp.replay_until(table, args.world))
    alerts = sorted(alerts, key=lambda a: (str(a.get("start")), str(a.get("alert_id"))))
    triage = Triage(person_flags=flags)
    for alert in alerts:
        if "episode" in alert and isinstance(alert["episode"], dict):
            triage.on_episode(alert["episode"])
        else:
            triage.on_alert(alert)
    incidents = triage.finish()
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "incidents.jsonl"), "w", encoding="utf-8") as fh:
        for inc in incidents:
            fh.write(json.dumps(inc.as_json(), sort_keys=True) + "\n")
    with open(os.path.join(args.out, "escalations.jsonl"), "w", encoding="utf-8") as fh:
        for esc in triage.escalations:
            fh.write(
                json.dumps({"topic": "alerts.IncidentEscalated", "incident": esc}, sort_keys=True) + "\n"
            )
    # steps the composition hands in (openem.cli REPLAY_STEPS, e.g. breaches and their packs): alerts names none
    context = {"world": args.world, "out": args.out, "incidents": incidents, "escalations": triage.escalations,
               "telemetry": table}  # fmt: skip
    for step in getattr(args, "replay_steps", None) or ():
        module, _, func = str(step).partition(":")
        getattr(importlib.import_module(module), func)(context)
    need = sum(1 for i in incidents if i.needs_person)
    print(f"{len(alerts):,} alerts -> {len(incidents):,} incidents, {need:,} needing a person, "
          f"{len(triage.escalations):,} escalated; {len(triage.rejected)} rejected; monitor {triage.monitor_counts}",
          file=sys.stderr)  # fmt: skip
    return 0
