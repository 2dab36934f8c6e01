"""`openem crime match --engine spark` (a PySpark job on `local[2]`) gives the same results.csv as the DuckDB
path on the same lake: the same wearers placed, the same passes with the same closest approach and bearings, the
same "unknown" wearers (including a gap across midnight, two day partitions)."""

from __future__ import annotations

import csv
import json
from datetime import timedelta

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.crime_worlds import CRIME_FROM, CRIME_TO, SCENE, crime_line, offset, write_world

from openem.cli import main

pytest.importorskip("pyspark")


def _lake(tmp_path):
    """The default world's wearers on 3 November, plus two on either side of London midnight."""
    world = write_world(tmp_path / "world")
    t = pq.read_table(world / "telemetry" / "part-00000.parquet")
    names = ["AT", "FAR", "LATE", "GAP", "NOTPERMIT", "ENDED", "HOME"]
    persons = {f"GPS-T{n:03d}": f"PER-{k}" for n, k in enumerate(names)}
    day1 = tmp_path / "lake" / "date=2026-11-03"
    day2 = tmp_path / "lake" / "date=2026-11-04"
    day1.mkdir(parents=True)
    day2.mkdir(parents=True)
    pq.write_table(pa.table({
        "person_id": [persons[d] for d in t["device_id"].to_pylist()], "activation_id": t["device_id"],
        "device_id": t["device_id"], "seq": t["seq"], "device_time": t["device_time"], "lat": t["lat"],
        "lon": t["lon"], "accuracy_m": t["accuracy_m"],
    }), day1 / "part-0.parquet")  # fmt: skip
    midnight = CRIME_FROM.replace(hour=0) + timedelta(days=1)

    def write(folder, start, minutes, person, place, skip=()):
        times = [start + timedelta(minutes=m) for m in range(minutes) if m not in skip]
        n = len(times)
        pq.write_table(pa.table({"person_id": [person] * n, "activation_id": ["A"] * n,
                                 "device_id": [f"GPS-{person}"] * n, "seq": list(range(n)),
                                 "device_time": pa.array(times, pa.timestamp("us", tz="UTC")),
                                 "lat": [place[0] + 0.00001 * (i % 7) for i in range(n)], "lon": [place[1]] * n,
                                 "accuracy_m": [8.0 + i % 30 for i in range(n)]}), folder / f"{person}.parquet")  # fmt: skip

    near = offset(*SCENE, 1000.0, 0.0)
    write(day1, midnight - timedelta(hours=3), 170, "P-MIDNIGHT", near)
    write(day2, midnight + timedelta(minutes=30), 120, "P-MIDNIGHT", near)
    write(day1, midnight - timedelta(hours=3), 180, "P-STEADY", near)
    write(day2, midnight, 150, "P-STEADY", near)
    write(day2, midnight, 150, "P-AT", offset(*SCENE, 60.0, 0.0), skip=range(10, 14))
    return tmp_path / "lake", midnight


def _results(out):
    with (out / "results.csv").open(encoding="utf-8") as fh:
        return sorted(tuple(sorted(r.items())) for r in csv.DictReader(fh))


def test_spark_and_duckdb_give_identical_results_on_the_same_lake(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("OPENEM_SPARK_MASTER", raising=False)  # local[2]
    lake, midnight = _lake(tmp_path)
    crimes = tmp_path / "crimes.csv"
    crimes.write_text(
        "\n".join([
            crime_line("AT-SCENE"),
            crime_line("KM-OFF", offset(*SCENE, -1500.0, 400.0)),
            crime_line("HOUR-OFF", SCENE, CRIME_FROM - timedelta(hours=3), CRIME_TO - timedelta(hours=3)),
            crime_line("MIDNIGHT", SCENE, midnight - timedelta(minutes=5), midnight + timedelta(minutes=20)),
            crime_line("NOBODY", offset(*SCENE, 9000.0, 9000.0), CRIME_FROM, CRIME_TO),
        ]) + "\n"
    )  # fmt: skip
    outs = {}
    for engine in ("spark", "duckdb"):
        outs[engine] = tmp_path / f"out-{engine}"
        args = ["crime", "match", "--crimes", str(crimes), "--lake", str(lake), "--out", str(outs[engine])]
        assert main([*args, "--engine", engine]) == 0
        assert json.loads(capsys.readouterr().out.splitlines()[-1])["engine"] == engine
    spark, duck = _results(outs["spark"]), _results(outs["duckdb"])
    assert spark == duck
    rows = [dict(r) for r in spark]
    placed = {(r["crime_reference"], r["person_id"]) for r in rows if r["status"] == "match"}
    assert ("AT-SCENE", "PER-AT") in placed and ("MIDNIGHT", "P-AT") in placed
    unknown = {(r["crime_reference"], r["person_id"]) for r in rows if r["status"] == "unknown"}
    assert ("MIDNIGHT", "P-MIDNIGHT") in unknown and ("MIDNIGHT", "P-STEADY") not in unknown
    with (outs["spark"] / "crimes.csv").open() as a, (outs["duckdb"] / "crimes.csv").open() as b:
        assert a.read() == b.read()  # the same counts considered, matched, unknown, ruled out per crime


def test_spark_engine_needs_the_lake(tmp_path, capsys):
    crimes = tmp_path / "crimes.csv"
    crimes.write_text(crime_line("X") + "\n")
    world = write_world(tmp_path / "world", hours=1)
    args = ["crime", "match", "--crimes", str(crimes), "--world", str(world), "--out", str(tmp_path / "o")]
    assert main([*args, "--engine", "spark"]) == 2
    assert "--lake" in capsys.readouterr().err
