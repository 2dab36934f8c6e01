"""Generating a world: in memory (`generate_world`) or streamed to disk chunk by chunk (`write_world`),
with the manifest and its calibration figures (docs/world-format.md)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from openem.sim.chunk import Chunk, build_chunk
from openem.sim.population import COHORT_SHARES, COHORTS, Population, plan_population

DEFAULT_START = date(2026, 11, 2)
CHUNK_WEARERS = 2000
SEED_SCALE_PEOPLE = 29_000


def chunk_size(days: int) -> int:
    return max(50, CHUNK_WEARERS // max(1, days))


@dataclass
class World:
    people: pd.DataFrame
    orders: list[dict[str, Any]]
    devices: pd.DataFrame
    activations: pd.DataFrame
    telemetry: pa.Table
    truth: pd.DataFrame
    field: pd.DataFrame
    manifest: dict[str, Any]

    def write(self, out_dir: str | Path, jsonl: bool = False) -> Path:
        w = _Writer(Path(out_dir), jsonl)
        w.add(
            Chunk(
                self.people,
                self.orders,
                self.devices,
                self.activations,
                self.field,
                self.telemetry,
                self.truth,
            )
        )
        w.close(self.manifest)
        return Path(out_dir)


def _chunks(wearers: int, days: int, seed: int, start: date) -> tuple[int, list[tuple[int, int]]]:
    size = chunk_size(days)
    return size, [(lo, min(wearers, lo + size)) for lo in range(0, wearers, size)]


def generate_world(wearers: int = 50, days: int = 2, seed: int = 1, start: date | None = None) -> World:
    """A small world in memory: `generate_world(wearers=50, days=2, seed=1).truth`."""
    start = start or DEFAULT_START
    pop = plan_population(wearers, seed)
    _, bounds = _chunks(wearers, days, seed, start)
    parts = [build_chunk(pop, lo, hi, seed, ci, start, days) for ci, (lo, hi) in enumerate(bounds)]
    cal = Calibration()
    for c in parts:
        cal.add(c)
    return World(
        people=pd.concat([c.people for c in parts], ignore_index=True),
        orders=[o for c in parts for o in c.orders],
        devices=pd.concat([c.devices for c in parts], ignore_index=True),
        activations=pd.concat([c.activations for c in parts], ignore_index=True),
        telemetry=pa.concat_tables([c.telemetry for c in parts]).sort_by("receive_time"),
        truth=pd.concat([c.truth for c in parts], ignore_index=True),
        field=pd.concat([c.field for c in parts], ignore_index=True),
        manifest=cal.manifest(wearers, days, seed, start),
    )


def write_world(
    out_dir: str | Path, wearers: int, days: int, seed: int, start: date | None = None, jsonl: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:  # fmt: skip
    """Stream a world to disk in chunks of wearers (bounded memory); returns the manifest."""
    start = start or DEFAULT_START
    pop = plan_population(wearers, seed)
    _, bounds = _chunks(wearers, days, seed, start)
    w = _Writer(Path(out_dir), jsonl)
    cal = Calibration()
    for c in _iter_chunks(pop, bounds, seed, start, days):
        cal.add(c)
        w.add(c)
        if progress:
            progress(len(c.people))
    manifest = cal.manifest(wearers, days, seed, start)
    w.close(manifest)
    return manifest


def _iter_chunks(
    pop: Population, bounds: list[tuple[int, int]], seed: int, start: date, days: int
) -> Iterator[Chunk]:
    # One process: worker processes were tried and were slower on the shared 2-core machine (spawn start-up
    # and pickling cost more than they saved). Each chunk has its own seed, so this can change freely.
    for ci, (lo, hi) in enumerate(bounds):
        yield build_chunk(pop, lo, hi, seed, ci, start, days)


class Calibration:
    """Running totals for the manifest's calibration figures."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.cohorts: Counter[str] = Counter()
        self.defects: Counter[str] = Counter()
        self.truth: Counter[str] = Counter()
        self.naive: Counter[str] = Counter()
        self.naive_false: Counter[str] = Counter()
        self.wearer_days = 0

    def add(self, c: Chunk) -> None:
        self.counts.update(people=len(c.people), orders=len(c.orders), devices=len(c.devices), activations=len(c.activations),
                           telemetry=c.telemetry.num_rows, truth=len(c.truth), field=len(c.field))  # fmt: skip
        self.cohorts.update(c.people["cohort"])
        self.defects.update(order_defective=sum(1 for o in c.orders if o["defects"]))
        for o in c.orders:
            self.defects.update(o["defects"])
        self.truth.update(c.truth["kind"])
        for k, (a, f) in c.naive.items():
            self.naive[k] += a
            self.naive_false[k] += f
        self.wearer_days += c.wearer_days

    def manifest(self, wearers: int, days: int, seed: int, start: date) -> dict[str, Any]:
        people = max(1, self.counts["people"])
        wd = max(1, self.wearer_days)
        total_alerts = sum(self.naive.values())
        per_wd = total_alerts / wd
        defective = self.defects.pop("order_defective", 0)
        return {
            "format": "openem-world/1",
            "seed": seed,
            "wearers": wearers,
            "days": days,
            "start": start.isoformat() + "T07:00 Europe/London",
            "chunk_wearers": chunk_size(days),
            "counts": dict(self.counts),
            "calibration": {
                "cohort_shares": {c: round(self.cohorts[c] / people, 4) for c in COHORTS},
                "cohort_targets": dict(zip(COHORTS, COHORT_SHARES, strict=True)),
                "order_defect_rate": round(defective / max(1, self.counts["orders"]), 4),
                "defect_codes": dict(sorted(self.defects.items())),
                "monitored_wearer_days": self.wearer_days,
                "truth_per_wearer_day": {k: round(v / wd, 5) for k, v in sorted(self.truth.items())},
                "naive_alerts_per_wearer_day": {k: round(v / wd, 5) for k, v in sorted(self.naive.items())},
                "naive_alerts_per_wearer_day_total": round(per_wd, 5),
                "expected_alerts_per_year_29000_people": int(per_wd * SEED_SCALE_PEOPLE * 365),
                "fault_alert_share": round(sum(self.naive_false.values()) / max(1, total_alerts), 4),
                "fault_alert_share_means": "share of naive alerts caused by device or software faults (RF dropout, spurious tamper, GPS multipath, biometric false reject, alcohol contaminant); the seed reports 3-10% from software errors",
                "naive_rules": "one alert per: RF absent transition in curfew; observed entry into an exclusion zone; battery run below 20%; "
                "strap open; alcohol episode (drinking, contaminant, skin tamper); missed or failed check-in; missed appointment; outage >= 1 h",
            },
        }


class _Writer:
    def __init__(self, out: Path, jsonl: bool) -> None:
        self.out = out
        (out / "telemetry").mkdir(parents=True, exist_ok=True)
        self.jsonl = jsonl
        self.part = 0
        self.frames: dict[str, list[pd.DataFrame]] = {
            "people": [],
            "devices": [],
            "activations": [],
            "truth": [],
            "field": [],
        }
        self.orders = (out / "orders.jsonl").open("w", encoding="utf-8")
        self.wire = (out / "telemetry.jsonl").open("w", encoding="utf-8") if jsonl else None

    def add(self, c: Chunk) -> None:
        pq.write_table(
            c.telemetry, self.out / "telemetry" / f"part-{self.part:05d}.parquet", compression="zstd"
        )
        self.part += 1
        for o in c.orders:
            self.orders.write(json.dumps(o, separators=(",", ":")) + "\n")
        for name in self.frames:
            self.frames[name].append(getattr(c, name))
        if self.wire is not None:
            from openem.sim.stream import table_to_wire

            for msg in table_to_wire(c.telemetry):
                self.wire.write(json.dumps(msg, separators=(",", ":")) + "\n")

    def close(self, manifest: dict[str, Any]) -> None:
        self.orders.close()
        if self.wire is not None:
            self.wire.close()
        for name, frames in self.frames.items():
            df = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
            df.to_parquet(self.out / f"{name}.parquet", index=False)
        (self.out / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
