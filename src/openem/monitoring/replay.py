"""Deterministic batch replay of a world (docs/world-format.md) through the live engine, and its accuracy.

Replay feeds telemetry in receive-time order, in slices of `batch_s` seconds of receive time (as a live
worker would see it), so the results are the live path's results. Accuracy compares alerts with the
simulator's ground truth: recall of true events by kind, and alerts matching no true event (technical noise)
per wearer-day.
"""

from __future__ import annotations

import gc
import glob
import json
import os
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from openem.core.geo import wgs84_to_bng_grid
from openem.core.time import local_to_utc
from openem.monitoring import episodes, replay_input
from openem.monitoring.columns import from_table
from openem.monitoring.engine import Engine
from openem.monitoring.model import ts
from openem.monitoring.replay_input import Rejections

# Alert kinds that satisfy a true event of a kind (the engine is more specific than the truth labels).
MATCHES: dict[str, set[str]] = {
    "curfew_early_leave": {"curfew_early_leave", "curfew_absence"},
    "curfew_absent": {"curfew_absent", "curfew_early_leave", "curfew_late_return"},
    "proximity": {"proximity", "proximity_pre_alert"},
    "device_fault": {"no_comms", "gps_lost_moving", "hmu_power_loss", "hmu_moved", "low_battery", "not_charging",
                     "case_tamper", "strap_tamper", "alcohol_skin_tamper", "exclusion_possible", "unmonitored_silent"},
    "no_comms": {"no_comms", "unmonitored_silent"},
}  # fmt: skip
#: Alert kinds a true event of a kind explains (so they are not noise) without counting towards its recall:
#: the "not home" alert at the grace comes before the late return or the absence it announces.
EXPLAINS: dict[str, set[str]] = {
    "curfew_late_return": {"curfew_not_home"},
    "curfew_absent": {"curfew_not_home"},
}
TOLERANCE_S = 30 * 60
# Battery reports come every 30 min and the simulator splits a discharge at its day boundary: wider match.
TOLERANCE_BY_KIND = {"low_battery": 2 * 3600}


def read_orders(path: str, rejected: Rejections | None = None) -> list[dict[str, Any]]:
    """Order documents, one a line. With `rejected`, an unreadable line is kept there and reading goes on."""
    if rejected is not None:
        return replay_input.orders_jsonl(path, rejected)
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_activations(path: str) -> list[dict[str, Any]]:
    return [
        {k: (None if v is None or v != v else v) for k, v in row.items()}
        for row in pq.read_table(path).to_pylist()
    ]


def telemetry_paths(path: str) -> list[str]:
    if os.path.isdir(path):
        return sorted(glob.glob(os.path.join(path, "*.parquet")))
    return [path]


DICTIONARY_COLUMNS = ("device_id", "type", "source")  # few distinct values: read as Parquet stores them


def read_telemetry(path: str, rejected: Rejections | None = None) -> pa.Table:
    """All telemetry, in receive-time order (ties by device and sequence, for determinism). Device ids, types
    and fix sources are dictionary-encoded (Parquet's own dictionaries, read as they are: faster than
    decoding millions of strings, and the engine wants codes, not strings). With `rejected`, what cannot be
    used (a bad JSON line, an unreadable Parquet part) is kept there, with its reason, and reading goes on."""
    rejected = rejected if rejected is not None else Rejections()
    if path.endswith(".jsonl"):
        from openem.telemetry.wire import messages_to_table

        table = messages_to_table(replay_input.telemetry_jsonl(path, rejected))
        table = table.set_column(table.schema.get_field_index("device_id"), "device_id",
                                 pc.dictionary_encode(table.column("device_id")))  # fmt: skip
    else:
        parts, paths = [], telemetry_paths(path)
        for p in paths:
            try:
                parts.append(pq.read_table(p, read_dictionary=DICTIONARY_COLUMNS))
            except (OSError, pa.ArrowException) as exc:
                if len(paths) == 1:
                    raise  # a single file that cannot be read: nothing to replay
                rejected.add(p, None, "unreadable_file", f"{type(exc).__name__}: {exc}"[:200])
        if not parts:
            raise FileNotFoundError(f"no readable telemetry Parquet in {path}")
        table = pa.concat_tables(parts, promote_options="default").unify_dictionaries()
        rejected.read += table.num_rows
    table = table.combine_chunks()
    if not table.num_rows:
        return table
    dev = table.column("device_id").chunk(0)
    names = np.array(dev.dictionary.to_pylist(), dtype=object)
    rank = np.empty(len(names), dtype=np.int64)
    rank[np.argsort(names, kind="stable")] = np.arange(len(names))  # a device id's place in string order
    key = pa.table({"rx": table.column("receive_time"), "dev": rank[dev.indices.to_numpy(zero_copy_only=False)],
                    "seq": table.column("seq")})  # fmt: skip
    return table.take(
        pc.sort_indices(key, sort_keys=[("rx", "ascending"), ("dev", "ascending"), ("seq", "ascending")])
    )


BATCH_ROWS = (
    300_000  # batches of about this many rows run fastest here (smaller: more scans; larger: cache misses)
)


def cuts(rx: np.ndarray, batch_s: float, max_rows: int | None = None) -> list[tuple[int, int]]:
    """Row ranges of consecutive receive-time buckets of `batch_s` seconds (rows in receive order); a bucket
    of more than `max_rows` rows is cut into equal parts, each cut moved back to the first row of its
    receive instant (rows received at the same instant stay together)."""
    if not len(rx):
        return []
    bucket = np.floor(rx / batch_s).astype(np.int64)
    edges = [0, *(np.flatnonzero(np.diff(bucket)) + 1).tolist(), len(rx)]
    out: list[tuple[int, int]] = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        parts = -(-(hi - lo) // max_rows) if max_rows else 1
        inner = [
            int(np.searchsorted(rx, rx[lo + j * (hi - lo) // parts], side="left")) for j in range(1, parts)
        ]
        bounds = sorted({lo, *(c for c in inner if lo < c < hi), hi})
        out += list(zip(bounds[:-1], bounds[1:], strict=True))
    return out


def replay(orders: Iterable[dict[str, Any]], activations: Iterable[dict[str, Any]], telemetry: pa.Table,
           batch_s: float = 300.0, until: float | None = None, thresholds: dict[str, Any] | None = None,
           max_rows: int | None = BATCH_ROWS) -> tuple[list[dict[str, Any]], Counter[str]]:  # fmt: skip
    """Run the engine over a world; returns (alerts in detection order, counts of message flags)."""
    return run(load_engine(orders, activations, until, thresholds), telemetry, batch_s, until, max_rows)


def load_engine(orders: Iterable[dict[str, Any]], activations: Iterable[dict[str, Any]], until: float | None = None,
                thresholds: dict[str, Any] | None = None) -> Engine:  # fmt: skip
    """An engine with a world's orders and activations applied (the set-up a live worker does once)."""
    eng = Engine(thresholds)
    eng.horizon = until
    for doc in orders:
        eng.apply_order(doc)
    for act in activations:
        eng.apply_activation(act)
    eng.index()
    wgs84_to_bng_grid(np.zeros(1), np.full(1, 52.0))  # the projection's lookup grid: built once per process
    gc.freeze()  # the world just loaded lives as long as the engine: the collector need not walk it again
    return eng


def run(eng: Engine, telemetry: pa.Table, batch_s: float = 300.0, until: float | None = None,
        max_rows: int | None = BATCH_ROWS) -> tuple[list[dict[str, Any]], Counter[str]]:  # fmt: skip
    """Feed telemetry through a loaded engine in receive-time slices, then close the windows due by `until`."""
    alerts: list[dict[str, Any]] = []
    flags: Counter[str] = Counter()
    cols = from_table(telemetry)  # converted once; each batch is a view of it
    for lo, hi in cuts(cols.rx, batch_s, max_rows):
        alerts += eng.process(cols.slice(lo, hi))
        flags.update(f[2] for f in eng.flags)
    if until is not None:
        alerts += eng.advance_watermark(until)
    return alerts, flags


def episode_records(eng: Engine, until: float | None = None) -> list[dict[str, Any]]:
    """The episode records a run wrote (what live publishes as EpisodeOpened / Updated / Closed, in order),
    then one record per episode still open at the end of the data, saying so (closed_reason "end_of_data",
    state "open")."""
    records = eng.take_episodes()
    return records + episodes.end_of_data(eng, until if until is not None else eng.watermark)


def episode_counts(records: list[dict[str, Any]], wearer_days: float) -> dict[str, Any]:
    """Episode records per wearer-day by change (opened / updated / closed / still open at the end), and the
    possible entries kept for review."""
    n = Counter("end_of_data" if r.get("closed_reason") == "end_of_data" else r["change"] for r in records)
    reviews = sum(1 for r in records if r["change"] == "opened" and r.get("confidence") == "possible")
    per = (lambda x: round(x / wearer_days, 4)) if wearer_days else (lambda x: None)  # noqa: E731
    return {"records": dict(n), "per_wearer_day": {k: per(v) for k, v in sorted(n.items())},
            "possible_reviews": reviews, "possible_reviews_per_wearer_day": per(reviews),
            "closed_reasons": dict(Counter(r["closed_reason"] for r in records if r["change"] == "closed"))}  # fmt: skip


def world_end(manifest: dict[str, Any]) -> float | None:
    """When a simulated world's recording stops: its first day's 07:00 London plus its days, wall clock."""
    start = str(manifest.get("start", ""))
    if not start.endswith(" Europe/London") or "days" not in manifest:
        return None
    first = datetime.fromisoformat(start.removesuffix(" Europe/London"))
    last_day = first.date() + timedelta(days=int(manifest["days"]))
    return local_to_utc(last_day, first.time()).timestamp()


def replay_until(table: pa.Table, world_dir: str | None = None) -> float | None:
    """Where replay stops judging: the data's end, and no later than the world's recording when known."""
    until = data_end(table)
    manifest = os.path.join(world_dir, "manifest.json") if world_dir else ""
    if until is not None and manifest and os.path.exists(manifest):
        with open(manifest, encoding="utf-8") as fh:
            end = world_end(json.load(fh))
        until = min(until, end) if end is not None else until
    return until


def data_end(table: pa.Table) -> float | None:
    """The last event time in the data: replay closes the windows that ended by then, and no later.

    An event cannot happen after it was received, so a device whose clock runs ahead (a device fault the
    simulator injects) does not stretch the end: without this, one skewed clock made every device in the
    world look silent for the last hour and a half."""
    if not table.num_rows:
        return None
    dt, rt = table.column("device_time"), table.column("receive_time")
    last = pc.max(pc.if_else(pc.less(rt, dt), rt, dt)).as_py()
    return last.timestamp() if last else None


def accuracy(truth: Any, alerts: list[dict[str, Any]], wearer_days: float, defective: set[str] | None = None
             ) -> dict[str, Any]:  # fmt: skip
    """Recall of true events by kind, and unmatched alerts (technical noise) per wearer-day. `defective` are
    orders the simulator corrupted on purpose (order validation rejects them; their timetable is not the
    one the truth was drawn from): recall is also given without them."""
    truth = coalesce(truth)
    by_order: dict[str, list[tuple[str, float, float, int]]] = defaultdict(list)
    for i, a in enumerate(alerts):
        by_order[a["order_ref"]].append(
            (a["kind"], ts(a["start"]) or 0.0, ts(a["end"] or a["start"]) or 0.0, i)
        )
    matched_alerts: set[int] = set()
    per_kind: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in truth.itertuples(index=False):
        s, e = row.start.timestamp(), row.end.timestamp()
        want = MATCHES.get(row.kind, {row.kind})
        tol = TOLERANCE_BY_KIND.get(row.kind, TOLERANCE_S)
        hit = [i for k, a_s, a_e, i in by_order.get(row.order_ref, []) if k in want
               and a_s <= e + tol and a_e >= s - tol]  # fmt: skip
        per_kind[row.kind][1] += 1
        explained = EXPLAINS.get(row.kind, set())
        matched_alerts.update(i for k, a_s, a_e, i in by_order.get(row.order_ref, []) if k in explained
                              and a_s <= e + tol and a_e >= s - tol)  # fmt: skip
        if hit:
            per_kind[row.kind][0] += 1
            matched_alerts.update(hit)
    unmatched = Counter(alerts[i]["kind"] for i in range(len(alerts)) if i not in matched_alerts)
    # Unfitted orders are a real operational condition (the NAO's unmonitored count), not technical noise.
    operational = {k: unmatched.pop(k) for k in list(unmatched) if k.startswith("unmonitored")}
    violations = truth[truth.is_violation]
    found = sum(per_kind[k][0] for k in set(violations.kind)) if len(violations) else 0
    return {
        "recall_by_kind": {
            k: {"found": f, "true": n, "recall": round(f / n, 4) if n else None}
            for k, (f, n) in sorted(per_kind.items())
        },  # fmt: skip
        "violation_recall": round(
            sum(1 for r in violations.itertuples(index=False) if _found(r, by_order)) / len(violations), 4
        )
        if len(violations)
        else None,  # fmt: skip
        "violations_true": int(len(violations)),
        "violation_recall_valid_orders": _recall(
            violations[~violations.order_ref.isin(defective or set())], by_order
        ),
        "matched_kinds_total": found,
        "alerts": len(alerts),
        "unmatched_alerts": dict(unmatched.most_common()),
        "operational_alerts": operational,
        "noise_per_wearer_day": round(sum(unmatched.values()) / wearer_days, 4) if wearer_days else None,
    }


JOIN_GAP_S = 120


def coalesce(truth: Any) -> Any:
    """One true episode per run: the simulator draws each day on its own, so an episode that spans its 07:00
    day boundary (a battery left flat overnight, a silent device) arrives as two rows, end-to-start. Rows of
    the same kind, order, device and condition that touch (within JOIN_GAP_S) are joined back into one."""
    if not len(truth):
        return truth
    keys = [k for k in ("kind", "order_ref", "device_id", "condition_id") if k in truth.columns]
    t = truth.sort_values([*keys, "start"]).reset_index(drop=True)
    same = (t[keys] == t[keys].shift()).all(axis=1)
    prev_end = t.groupby(keys, sort=False)["end"].transform(lambda e: e.cummax().shift())
    touches = same & ((t["start"] - prev_end).dt.total_seconds() <= JOIN_GAP_S)
    run = (~touches).cumsum()
    agg = {c: "first" for c in t.columns if c not in ("start", "end")}
    out = t.groupby(run, sort=False).agg({**agg, "start": "min", "end": "max"})
    return out[list(truth.columns)].reset_index(drop=True)


def _found(row: Any, by_order: dict[str, list[tuple[str, float, float, int]]]) -> bool:
    s, e = row.start.timestamp(), row.end.timestamp()
    want = MATCHES.get(row.kind, {row.kind})
    tol = TOLERANCE_BY_KIND.get(row.kind, TOLERANCE_S)
    return any(
        k in want and a_s <= e + tol and a_e >= s - tol for k, a_s, a_e, _ in by_order.get(row.order_ref, [])
    )


def _recall(violations: Any, by_order: dict[str, list[tuple[str, float, float, int]]]) -> float | None:
    if not len(violations):
        return None
    return round(
        sum(1 for r in violations.itertuples(index=False) if _found(r, by_order)) / len(violations), 4
    )


def defective_orders(orders: Iterable[dict[str, Any]]) -> set[str]:
    return {o["ref"] for o in orders if o.get("defects")}
