"""Alerts against batch size, with and without re-sequencing late data; checkpoint and restore, full and
incremental; the engine's state size (decision 0033).

    PYTHONPATH=src .venv/bin/python benchmarks/monitor_batching.py --world DIR [--batches 300 3600] [--json OUT]

1. Replays the world in each batch size twice, with re-sequencing (`late.resequence_s` 300, the default) and
   without (0: the path before it), alternated in one process, and reports GPS fixes/s/core (CPU time of the
   replay, orders and activations loaded apart) and how many alert ids differ between the batch sizes.
2. On the engine left by the last replay: a full checkpoint (`Engine.snapshot` + JSON) and an incremental one
   (`Engine.checkpoint_delta` + JSON) after a further stretch of data, their sizes, and the restores (from
   the full checkpoint; from base + delta), checked equal.
3. The engine's state: resident memory of a fresh process that restores the full checkpoint, minus the same
   process before it.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.compute as pc

from openem.monitoring import replay as rp
from openem.monitoring.columns import from_table
from openem.monitoring.engine import Engine
from openem.monitoring.model import default_thresholds, merge_thresholds


def _thresholds(resequence_s: float) -> dict[str, Any]:
    return merge_thresholds(default_thresholds(), {"late": {"resequence_s": resequence_s}})


def replay_once(world: dict[str, Any], batch_s: float, resequence_s: float) -> tuple[Engine, dict[str, Any]]:
    eng = rp.load_engine(world["orders"], world["acts"], world["until"], _thresholds(resequence_s))
    gc.collect()
    cpu0 = time.process_time()
    alerts, _ = rp.run(eng, world["table"], batch_s, world["until"])
    cpu = time.process_time() - cpu0
    gc.unfreeze()
    return eng, {"batch_s": batch_s, "resequence_s": resequence_s, "cpu_s": round(cpu, 2),
                 "fixes_per_s_per_core": round(world["n_gps"] / cpu), "alerts": len(alerts),
                 "ids": sorted({a["id"] for a in alerts}), "held_at_end": len(eng.held),
                 "alerts_list": alerts}  # fmt: skip


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def state_size(path: str) -> None:
    """Run in a fresh process: the resident memory a restored engine holds."""
    gc.collect()
    before = _rss_mb()
    with open(path) as f:
        eng = Engine.restore(json.load(f))
    gc.collect()
    print(json.dumps({"engine_state_mb": round(_rss_mb() - before, 1), "devices": len(eng.reg.dev_ids)}))


def checkpoints(world: dict[str, Any], batch_s: float, extra_s: float, mid: float = 0.5, restores: bool = True
                ) -> dict[str, Any]:  # fmt: skip
    """Replay up to the middle of the receipts, checkpoint in full, replay `extra_s` more in HTTP-sized batches,
    checkpoint again in full and incrementally, and restore both ways."""
    table = world["table"]
    cols = from_table(table)
    rx0 = float(cols.rx.min())
    cut_at = rx0 + (float(cols.rx.max()) - rx0) * mid  # the busy middle of the day, not its quiet end
    n_before = int((cols.rx < cut_at).sum())
    n_after = int((cols.rx < cut_at + extra_s).sum())
    eng = rp.load_engine(world["orders"], world["acts"], world["until"])
    for lo, hi in rp.cuts(cols.rx[:n_before], batch_s, rp.BATCH_ROWS):
        eng.process(cols.slice(lo, hi))
        eng.take_episodes()  # published after every batch, as live does
    gc.unfreeze()
    eng.checkpointed()  # the base is written: from here on only what changes
    t0 = time.perf_counter()
    base = json.dumps(eng.snapshot())
    full_first_s = time.perf_counter() - t0
    for lo in range(n_before, n_after, 500):  # live: HTTP batches of up to 500 messages
        eng.process(cols.slice(lo, min(lo + 500, n_after)))
        eng.take_episodes()
    t0 = time.perf_counter()
    full = json.dumps(eng.snapshot())
    full_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    delta = json.dumps(eng.checkpoint_delta())
    delta_s = time.perf_counter() - t0
    if not restores:
        return {"extra_s": extra_s, "messages_in_delta_stretch": n_after - n_before, "full_checkpoint_s": round(full_s, 2),
                "full_mb": round(len(full) / 1e6, 1), "delta_checkpoint_s": round(delta_s, 3),
                "delta_mb": round(len(delta) / 1e6, 2)}  # fmt: skip
    t0 = time.perf_counter()
    from_full = Engine.restore(json.loads(full))
    restore_full_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    from_delta = Engine.restore(json.loads(base), [json.loads(delta)])
    restore_delta_s = time.perf_counter() - t0
    same = json.dumps(from_full.snapshot(), sort_keys=True) == json.dumps(
        from_delta.snapshot(), sort_keys=True
    )
    fd, path = tempfile.mkstemp(suffix=".json")
    with os.fdopen(fd, "w") as f:
        f.write(full)
    out = subprocess.run(
        [sys.executable, __file__, "--state-size", path], capture_output=True, text=True, check=True
    )
    os.unlink(path)
    return {"extra_s": extra_s, "messages_in_delta_stretch": n_after - n_before,
            "full_checkpoint_s": round(full_s, 2), "full_checkpoint_first_s": round(full_first_s, 2),
            "full_mb": round(len(full) / 1e6, 1), "delta_checkpoint_s": round(delta_s, 3),
            "delta_mb": round(len(delta) / 1e6, 2), "restore_full_s": round(restore_full_s, 2),
            "restore_base_plus_delta_s": round(restore_delta_s, 2), "restores_equal": same,
            **json.loads(out.stdout.strip().splitlines()[-1])}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--world")
    ap.add_argument("--batches", type=float, nargs="+", default=[300.0, 3600.0])
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--delta-s", type=float, default=30.0, help="receipts between the two checkpoints")
    ap.add_argument("--skip-replays", action="store_true")
    ap.add_argument("--modes", type=float, nargs="+", default=[0.0, 300.0], help="late.resequence_s values")
    ap.add_argument("--alerts-dir", help="write each replay's alerts here (JSON lines)")
    ap.add_argument("--no-checkpoints", action="store_true")
    ap.add_argument("--no-restores", action="store_true", help="checkpoint sizes and times only")
    ap.add_argument("--json")
    ap.add_argument("--state-size")
    args = ap.parse_args()
    if args.state_size:
        return state_size(args.state_size)
    wdir = Path(args.world)
    table = rp.read_telemetry(str(wdir / "telemetry"))
    world = {"table": table, "orders": rp.read_orders(str(wdir / "orders.jsonl")),
             "acts": rp.read_activations(str(wdir / "activations.parquet")),
             "until": rp.replay_until(table, str(wdir)),
             "n_gps": int(pc.sum(pc.equal(table.column("type"), "gps")).as_py())}  # fmt: skip
    runs: list[dict[str, Any]] = []
    if not args.skip_replays:
        for _ in range(args.rounds):
            for b in args.batches:
                for rs in args.modes:  # the path before it, then re-sequencing: alternated
                    eng, r = replay_once(world, b, rs)
                    del eng
                    gc.collect()
                    if args.alerts_dir:
                        out = Path(args.alerts_dir) / f"alerts_rs{rs:g}_b{b:g}.jsonl"
                        out.write_text("".join(json.dumps(a) + "\n" for a in r.pop("alerts_list")))
                    r.pop("alerts_list", None)
                    runs.append(r)
                    print({k: v for k, v in r.items() if k != "ids"}, flush=True)
    summary: dict[str, Any] = {"messages": table.num_rows, "gps_fixes": world["n_gps"], "runs": []}
    for rs in args.modes:
        mine = [r for r in runs if r["resequence_s"] == rs]
        if not mine:
            continue
        ref = set(mine[0]["ids"])
        for r in mine:
            diff = len(ref ^ set(r["ids"]))
            summary["runs"].append({**{k: v for k, v in r.items() if k != "ids"},
                                    f"ids_differing_from_{mine[0]['batch_s']:g}s": diff})  # fmt: skip
    print(json.dumps(summary, indent=1), flush=True)
    if not args.no_checkpoints:
        summary["checkpoints"] = checkpoints(
            world, max(args.batches), args.delta_s, restores=not args.no_restores
        )
    print(json.dumps(summary, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
