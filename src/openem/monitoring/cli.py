"""`openem monitor replay|accuracy`: batch replay of a simulated world and its accuracy against ground truth."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any


def register(subparsers: Any) -> None:
    p = subparsers.add_parser("monitor", help="monitoring engine: replay a world, measure accuracy")
    sub = p.add_subparsers(dest="monitor_command", metavar="SUBCOMMAND")
    r = sub.add_parser("replay", help="deterministic batch replay producing alerts as JSON Lines")
    r.add_argument("--world", help="a world directory (openem sim generate --out DIR)")
    r.add_argument("--orders", help="orders.jsonl (instead of --world)")
    r.add_argument("--activations", help="activations.parquet (instead of --world)")
    r.add_argument("--telemetry", help="telemetry Parquet file or directory, or telemetry.jsonl")
    r.add_argument(
        "--out",
        required=True,
        help="alerts JSON Lines to write ('-' for stdout); the episode records go to OUT.episodes.jsonl",
    )
    r.add_argument(
        "--rejections",
        help="input lines that could not be used, as JSON Lines (default: next to --out, "
        "OUT.rejections.jsonl; with --out -, replay-rejections.jsonl)",
    )
    r.add_argument(
        "--batch-seconds",
        type=float,
        default=3600.0,
        help="receive-time slice per engine batch (the alerts are the same for any size; an hour is fastest)",
    )
    r.add_argument("--batch-rows", type=int, default=None,
                   help="cut a slice with more rows than this into parts (default replay.BATCH_ROWS, 300,000; 0: never)")  # fmt: skip
    r.set_defaults(func=_replay)
    a = sub.add_parser("accuracy", help="recall by kind and technical-noise rate against truth.parquet")
    a.add_argument("--world", required=True)
    a.add_argument("--alerts", required=True)
    a.set_defaults(func=_accuracy)
    p.set_defaults(func=lambda args: (p.print_help(), 2)[1])


def _replay(args: argparse.Namespace) -> int:
    """Replay what can be read; what cannot is counted, written to the rejections file and summarised.
    Exit 0 when the good data was processed; 2 for wrong arguments, 1 when nothing could be read."""
    from openem.monitoring import replay as rp
    from openem.monitoring.replay_input import Rejections

    orders = args.orders or (args.world and os.path.join(args.world, "orders.jsonl"))
    acts = args.activations or (args.world and os.path.join(args.world, "activations.parquet"))
    tele = args.telemetry or (args.world and os.path.join(args.world, "telemetry"))
    if not (orders and acts and tele):
        print("give --world DIR, or --orders, --activations and --telemetry", file=sys.stderr)
        return 2
    max_rows = rp.BATCH_ROWS if args.batch_rows is None else args.batch_rows
    if args.batch_seconds <= 0 or max_rows < 0:
        print("--batch-seconds must be positive and --batch-rows at least 0", file=sys.stderr)
        return 2
    rejected = Rejections()
    try:
        table = rp.read_telemetry(tele, rejected)
        docs, activations = rp.read_orders(orders, rejected), rp.read_activations(acts)
    except (OSError, ValueError) as exc:  # a missing or unreadable file (pyarrow's errors are ValueErrors)
        print(f"cannot read the input: {exc}", file=sys.stderr)
        return 1
    if rejected.read and not table.num_rows:
        _report(args, rejected, 0, 0, {}, 0.0)
        print("no telemetry could be used: nothing replayed", file=sys.stderr)
        return 1
    started = time.perf_counter()
    until = rp.replay_until(table, args.world)
    eng = rp.load_engine(docs, activations, until)
    alerts, flags = rp.run(eng, table, args.batch_seconds, until, max_rows or None)
    records = rp.episode_records(eng, until)
    elapsed = time.perf_counter() - started
    out = sys.stdout if args.out == "-" else open(args.out, "w", encoding="utf-8")  # noqa: SIM115
    try:
        for alert in alerts:
            out.write(json.dumps(alert, sort_keys=True) + "\n")
    finally:
        if out is not sys.stdout:
            out.close()
    if args.out != "-":  # the episodes, as live publishes them (decision 0020), beside the alerts
        with open(f"{args.out}.episodes.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r, sort_keys=True) + "\n" for r in records)
    _report(args, rejected, table.num_rows, len(alerts), dict(flags), elapsed)
    return 0


def _report(args: argparse.Namespace, rejected: Any, processed: int, alerts: int, flags: dict[str, int],
            elapsed: float) -> None:  # fmt: skip
    """The rejections file, and one summary line: read, processed, rejected by reason."""
    path = args.rejections or (
        "replay-rejections.jsonl" if args.out == "-" else f"{args.out}.rejections.jsonl"
    )
    rejected.write(path)
    reasons = ", ".join(f"{k} {v:,}" for k, v in sorted(rejected.by_reason().items())) or "none"
    rate = processed / elapsed if elapsed else 0.0
    print(f"read {rejected.read:,} telemetry messages, processed {processed:,}; rejected {len(rejected.rows):,} "
          f"input lines ({reasons}; see {path}) -> {alerts:,} alerts in {elapsed:.2f}s ({rate:,.0f} msg/s); flags {flags}",
          file=sys.stderr)  # fmt: skip


def _accuracy(args: argparse.Namespace) -> int:
    import pandas as pd

    from openem.monitoring import replay as rp

    truth = pd.read_parquet(os.path.join(args.world, "truth.parquet"))
    with open(args.alerts, encoding="utf-8") as fh:
        alerts = [json.loads(line) for line in fh if line.strip()]
    with open(os.path.join(args.world, "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    defective = rp.defective_orders(rp.read_orders(os.path.join(args.world, "orders.jsonl")))
    report = rp.accuracy(truth, alerts, float(manifest["wearers"]) * float(manifest["days"]), defective)
    print(json.dumps(report, indent=2))
    return 0
