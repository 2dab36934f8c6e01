"""The lake's trail index (`_index/date=D/`) changes how fast a batch is matched, never what it finds: the same
wearers, passes (closest approach, bearings, confidence), positions shown as evidence, unknown and ruled out as
reading every position; a day whose files change after the index was built is indexed again."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from tests.crime_worlds import CRIME_FROM, SCENE, offset

from openem.crime import offline
from openem.crime.matching import CrimeWindow


def _walkers(folder, n, seed, start, minutes, prefix="W"):
    """n wearers walking around the scene, a fix a minute, some with an hour's gap and some with no accuracy."""
    rng = np.random.default_rng(seed)
    times = np.array([start + timedelta(minutes=m) for m in range(minutes)], dtype=object)
    rows = {k: [] for k in ("person_id", "activation_id", "device_id", "seq", "device_time", "lat", "lon",
                            "accuracy_m")}  # fmt: skip
    for i in range(n):
        lat0, lon0 = offset(*SCENE, rng.normal(0, 800), rng.normal(0, 800))
        steps = rng.normal(0, 0.0004, (minutes, 2)).cumsum(axis=0)
        keep = np.ones(minutes, bool)
        if i % 4 == 0:
            g = int(rng.integers(0, minutes - 60))
            keep[g : g + 60] = False
        device = f"GPS-{prefix}{i:03d}"
        for m in np.nonzero(keep)[0]:  # the second device is worn by two people in turn
            second = i == 1 and m >= minutes // 2
            rows["person_id"].append(f"P-{prefix}{i:03d}" if not second else f"P-{prefix}-SECOND")
            rows["activation_id"].append(device)
            rows["device_id"].append(device)
            rows["seq"].append(int(m))
            rows["device_time"].append(times[m])
            rows["lat"].append(float(lat0 + steps[m, 0]))
            rows["lon"].append(float(lon0 + steps[m, 1]))
            rows["accuracy_m"].append(None if (i == 2 and m % 3 == 0) else float(rng.gamma(2.0, 12.0)))
    folder.mkdir(parents=True, exist_ok=True)
    table = pa.table(rows).cast(pa.schema([
        ("person_id", pa.string()), ("activation_id", pa.string()), ("device_id", pa.string()), ("seq", pa.int64()),
        ("device_time", pa.timestamp("us", tz="UTC")), ("lat", pa.float64()), ("lon", pa.float64()),
        ("accuracy_m", pa.float64()),
    ]))  # fmt: skip
    pq.write_table(table, folder / f"{prefix}.parquet", row_group_size=500)
    return table


def _seen(results):
    return [
        (r.crime.key, r.considered, r.ruled_out,
         sorted((p.label, p.person_id, p.device_id, p.first_seen, p.last_seen, p.closest_m, p.closest_accuracy_m,
                 p.positions, p.entry_bearing, p.exit_bearing, p.confidence, p.minutes_inside) for p in r.passes),
         sorted((u.device_id, u.person_id, u.gap_start, u.gap_end) for u in r.unknown),
         {d: [tuple(sorted(x.items())) for x in t] for d, t in r.trails.items()})
        for r in results
    ]  # fmt: skip


def test_the_index_finds_exactly_what_reading_every_position_finds(tmp_path):
    lake = tmp_path / "lake"
    start = CRIME_FROM.replace(hour=20)  # across London midnight: two day partitions
    walk = _walkers(lake / "date=2026-11-03", 30, 1, start, 4 * 60)
    _walkers(lake / "date=2026-11-04", 30, 2, start.replace(hour=0) + timedelta(days=1), 3 * 60)
    rng = np.random.default_rng(5)
    crimes = []
    for i, j in enumerate(rng.integers(0, walk.num_rows, 25)):  # on real fixes, so wearers are placed
        t = walk["device_time"][int(j)].as_py()
        crimes.append(CrimeWindow(f"k{i}", f"ON-{i}", walk["lat"][int(j)].as_py(), walk["lon"][int(j)].as_py(),
                                  t - timedelta(minutes=20), t + timedelta(minutes=40)))  # fmt: skip
    crimes.append(CrimeWindow("far", "FAR", *offset(*SCENE, 20_000, 0), start, start + timedelta(hours=5)))
    with_index = offline.run(crimes, lake=str(lake), index=True)
    assert (lake / "_index" / "date=2026-11-04" / "meta.json").is_file()
    without = offline.run(crimes, lake=str(lake), index=False)
    assert _seen(with_index) == _seen(without)
    placed = {p.person_id for r in with_index for p in r.passes}
    assert len(placed) >= 5
    assert with_index[-1].passes == [] and with_index[-1].ruled_out > 0  # 20 km away: ruled out, not unknown


def test_a_day_changed_after_indexing_is_indexed_again(tmp_path):
    lake = tmp_path / "lake"
    start = CRIME_FROM.replace(hour=8)
    _walkers(lake / "date=2026-11-03", 5, 3, start, 120)
    crime = [
        CrimeWindow("k", "LATE-ARRIVAL", *SCENE, start + timedelta(minutes=50), start + timedelta(minutes=70))
    ]
    offline.run(crime, lake=str(lake))
    n = 61
    times = pa.array([start + timedelta(minutes=30 + m) for m in range(n)], pa.timestamp("us", tz="UTC"))
    pq.write_table(pa.table({"person_id": ["P-ARRIVED"] * n, "activation_id": ["A"] * n,
                             "device_id": ["GPS-ARRIVED"] * n, "seq": list(range(n)), "device_time": times,
                             "lat": [SCENE[0]] * n, "lon": [SCENE[1]] * n, "accuracy_m": [5.0] * n}),
                   lake / "date=2026-11-03" / "late.parquet")  # fmt: skip
    again = offline.run(crime, lake=str(lake))
    assert "P-ARRIVED" in {p.person_id for p in again[0].passes}
    assert _seen(again) == _seen(offline.run(crime, lake=str(lake), index=False))
