"""`openem sim generate` and `openem sim stream`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sim = subparsers.add_parser("sim", help="the synthetic EM world: generate and replay")
    sub = sim.add_subparsers(dest="sim_command", metavar="SUBCOMMAND")
    g = sub.add_parser("generate", help="generate a world to a folder (Parquet, JSONL on request)")
    g.add_argument("--wearers", type=int, default=100)
    g.add_argument("--days", type=int, default=2)
    g.add_argument("--seed", type=int, default=1)
    g.add_argument(
        "--start", type=date.fromisoformat, default=None, help="first day (YYYY-MM-DD), from 07:00 local"
    )
    g.add_argument("--out", required=True)
    g.add_argument("--jsonl", action="store_true", help="also write telemetry.jsonl in the wire form")
    g.set_defaults(func=_generate)
    s = sub.add_parser("stream", help="replay a world against a running openem over HTTP")
    s.add_argument("--world", required=True)
    s.add_argument("--url", default="http://127.0.0.1:8000")
    s.add_argument("--token", default="")
    s.add_argument(
        "--speed", type=float, default=60.0, help="simulated seconds per real second; 0 = as fast as possible"
    )
    s.add_argument("--limit", type=int, default=None)
    s.set_defaults(func=_stream)

    def _help(_args: argparse.Namespace) -> int:
        sim.print_help()
        return 2

    sim.set_defaults(func=_help)


def _generate(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from openem.sim.world import write_world

    with tqdm(total=args.wearers, unit="wearer", desc="simulating") as bar:
        m = write_world(
            args.out, args.wearers, args.days, args.seed, args.start, args.jsonl, progress=bar.update
        )
    cal = m["calibration"]
    print(f"world written to {args.out}")
    print("counts: " + ", ".join(f"{k}={v:,}" for k, v in m["counts"].items()))
    print("cohort shares: " + json.dumps(cal["cohort_shares"]))
    print(f"order defect rate: {cal['order_defect_rate']:.1%}")
    print(f"naive alerts per wearer-day: {cal['naive_alerts_per_wearer_day_total']:.3f} "
          f"-> {cal['expected_alerts_per_year_29000_people']:,} a year for 29,000 people "
          f"(from device faults {cal['fault_alert_share']:.1%})")  # fmt: skip
    return 0


def _stream(args: argparse.Namespace) -> int:
    import httpx
    from tqdm import tqdm

    from openem.sim.stream import stream_world

    try:
        with tqdm(unit="msg", desc="streaming") as bar:
            sent = stream_world(args.world, args.url, args.token, args.speed, args.limit, progress=bar.update)
    except (httpx.HTTPError, RuntimeError) as exc:
        print(f"streaming stopped: {exc}", file=sys.stderr)
        return 1
    print(f"sent {sent:,} messages to {args.url}")
    return 0
