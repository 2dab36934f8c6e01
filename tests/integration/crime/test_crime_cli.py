"""`openem crime ingest FILE` (one JSON line per refusal; exit 0/1/2), `openem crime match` on simulated
worlds and the trail lake (results.csv), and the watched Maildir folder."""

from __future__ import annotations

import csv
import json
import mailbox
from datetime import timedelta
from email.message import EmailMessage

import pyarrow.parquet as pq
from tests.crime_worlds import CRIME_FROM, SCENE, crime_line, offset, write_world

from openem.cli import main


def test_ingest_exits_0_1_2_and_prints_each_refusal(sqlite_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENEM_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("OPENEM_VAR_DIR", str(tmp_path / "var"))
    good = tmp_path / "good.csv"
    good.write_text(crime_line("I1") + "\r\n")
    assert main(["crime", "ingest", str(good)]) == 0
    assert capsys.readouterr().out == ""
    part = tmp_path / "part.csv"
    part.write_text(crime_line("I2") + "\n" + crime_line("I3").replace("BIAD", "ARSON") + "\n")
    assert main(["crime", "ingest", str(part)]) == 1
    [line] = capsys.readouterr().out.splitlines()
    assert json.loads(line) | {"action": ""} == {"row": 2, "error_type": "unknown_crime_type", "field": "crime_type_id",
                                                "value": "ARSON", "action": ""}  # fmt: skip
    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04" + bytes(range(256)) * 40)
    assert main(["crime", "ingest", str(junk)]) == 2
    assert json.loads(capsys.readouterr().out.splitlines()[0])["error_type"] == "not_csv"
    big = tmp_path / "big.csv"
    big.write_bytes((crime_line("B") + "\n").encode() * 60_000)  # ~10 MB
    assert main(["crime", "ingest", str(big)]) == 2
    assert json.loads(capsys.readouterr().out.splitlines()[0])["error_type"] == "too_large"
    assert main(["crime", "ingest", str(tmp_path / "missing.csv")]) == 2


def test_match_writes_results_csv_for_a_world_where_the_truth_is_known(tmp_path, capsys):
    world = write_world(tmp_path / "world")
    crimes = tmp_path / "crimes.csv"
    crimes.write_text("\n".join([
        crime_line("AT-SCENE"),
        crime_line("KM-OFF", offset(*SCENE, 0, 1000.0)),
        crime_line("HOUR-OFF", SCENE, CRIME_FROM - timedelta(hours=2), CRIME_FROM - timedelta(hours=1)),
        crime_line("SCOTLAND", (55.95, -3.19)),
        crime_line("=FORMULA", SCENE, text="=1+2"),
    ]))  # fmt: skip
    out = tmp_path / "out"
    assert main(["crime", "match", "--crimes", str(crimes), "--world", str(world), "--out", str(out)]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["outcome"] == "partial" and summary["crimes"] == 3
    rows = list(csv.DictReader((out / "results.csv").open()))
    matched = {(r["crime_reference"], r["person_id"]) for r in rows if r["status"] == "match"}
    assert matched == {("AT-SCENE", "PER-AT")}
    for r in rows:
        assert r["device_id"] and r["first_seen"] and r["last_seen"]
    at = next(r for r in rows if r["crime_reference"] == "AT-SCENE" and r["status"] == "match")
    assert at["pass_label"] == "A1" and float(at["closest_m"]) < 5
    unknown = {(r["crime_reference"], r["person_id"]) for r in rows if r["status"] == "unknown"}
    assert ("KM-OFF", "PER-GAP") in unknown and ("HOUR-OFF", "PER-GAP") not in unknown
    crimes_out = {r["crime_reference"]: r for r in csv.DictReader((out / "crimes.csv").open())}
    assert crimes_out["KM-OFF"]["matched"] == "0" and int(crimes_out["KM-OFF"]["ruled_out"]) >= 3
    errors = list(csv.reader((out / "errors.csv").open()))
    assert [e[1] for e in errors[1:]] == ["outside_england_wales", "bad_reference"]
    assert errors[2][3] == "'=FORMULA"  # shown in a spreadsheet, never run


def test_match_over_the_trail_lake_finds_the_same_wearer(tmp_path, capsys):
    world = write_world(tmp_path / "world")
    t = pq.read_table(world / "telemetry" / "part-00000.parquet")
    lake = tmp_path / "lake" / "date=2026-11-03"
    lake.mkdir(parents=True)
    import pyarrow as pa

    persons = {
        f"GPS-T{n:03d}": f"PER-{k}"
        for n, k in enumerate(["AT", "FAR", "LATE", "GAP", "NOTPERMIT", "ENDED", "HOME"])
    }
    table = pa.table({
        "person_id": [persons[d] for d in t["device_id"].to_pylist()], "activation_id": t["device_id"],
        "device_id": t["device_id"], "seq": t["seq"], "device_time": t["device_time"], "lat": t["lat"],
        "lon": t["lon"], "accuracy_m": t["accuracy_m"],
    })  # fmt: skip
    pq.write_table(table, lake / "part-0.parquet")
    crimes = tmp_path / "crimes.csv"
    crimes.write_text(crime_line("LAKE-1") + "\n")
    out = tmp_path / "out"
    assert (
        main(["crime", "match", "--crimes", str(crimes), "--lake", str(tmp_path / "lake"), "--out", str(out)])
        == 0
    )
    rows = [r for r in csv.DictReader((out / "results.csv").open()) if r["status"] == "match"]
    # the lake holds no orders: every trail in it is matched (NOTPERMIT, ENDED too)
    assert {r["person_id"] for r in rows} == {"PER-AT", "PER-NOTPERMIT", "PER-ENDED"}


def test_match_on_a_generated_world_places_a_wearer_at_a_fix_of_their_own(tmp_path, capsys):
    from openem.sim.world import generate_world

    folder = tmp_path / "sim"
    generate_world(wearers=40, days=1, seed=5).write(folder)
    import duckdb

    from openem.crime.sources import world_views

    con = duckdb.connect()
    world_views(con, folder)
    person, device, at, lat, lon = con.execute(
        "SELECT p.person_id, p.device_id, p.device_time, p.lat, p.lon FROM positions p JOIN wearers USING (device_id) "
        "WHERE p.accuracy_m < 30 ORDER BY p.device_time LIMIT 1 OFFSET 2000").fetchall()[0]  # fmt: skip
    con.close()
    crimes = tmp_path / "c.csv"
    crimes.write_text(
        crime_line("SIM-1", (lat, lon), at - timedelta(minutes=10), at + timedelta(minutes=10)) + "\n"
    )
    out = tmp_path / "out"
    assert main(["crime", "match", "--crimes", str(crimes), "--world", str(folder), "--out", str(out)]) == 0
    rows = list(csv.DictReader((out / "results.csv").open()))
    assert (person, device) in {(r["person_id"], r["device_id"]) for r in rows if r["status"] == "match"}


def test_the_watched_maildir_takes_each_attachment_once(sqlite_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPENEM_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("OPENEM_VAR_DIR", str(tmp_path / "var"))
    box = mailbox.Maildir(str(tmp_path / "mail"), create=True)
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "Crime Desk <crime.desk@westmidlands.police.example>", "Batch"
    msg.set_content("Please find attached.")
    msg.add_attachment(
        (crime_line("M1") + "\n").encode(), maintype="text", subtype="csv", filename="WMP20261103.csv"
    )
    box.add(msg)
    empty = EmailMessage()
    empty["From"] = "someone@example.org"
    empty.set_content("no attachment")
    box.add(empty)
    assert main(["crime", "watch", "--maildir", str(tmp_path / "mail"), "--once"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert sorted(x["outcome"] for x in lines) == ["failed", "successful"]
    assert {x["sender"] for x in lines} == {"crime.desk@westmidlands.police.example", "someone@example.org"}
    assert main(["crime", "watch", "--maildir", str(tmp_path / "mail"), "--once"]) == 0
    assert capsys.readouterr().out == ""  # each message is taken once


def test_the_lakes_per_day_coverage_gives_the_same_matches_and_sees_gaps_across_midnight(tmp_path):
    """Gaps from the coverage written once per day equal the ones found by reading every position, and a gap
    that spans midnight (two day partitions) still makes a wearer unknown."""
    import pyarrow as pa

    from openem.crime import offline
    from openem.crime.matching import CrimeWindow

    day1, day2 = tmp_path / "lake" / "date=2026-11-03", tmp_path / "lake" / "date=2026-11-04"
    day1.mkdir(parents=True)
    day2.mkdir(parents=True)
    midnight = CRIME_FROM.replace(hour=0) + timedelta(days=1)  # 2026-11-04 00:00 UTC = London midnight

    def write(folder, start, minutes, person, place):
        times = [start + timedelta(minutes=m) for m in range(minutes)]
        ts = pa.array(times, pa.timestamp("us", tz="UTC"))
        n = len(times)
        pq.write_table(pa.table({"person_id": [person] * n, "activation_id": ["A"] * n, "device_id": [f"GPS-{person}"] * n,
                                 "seq": list(range(n)), "device_time": ts, "lat": [place[0]] * n, "lon": [place[1]] * n,
                                 "accuracy_m": [10.0] * n}), folder / f"{person}.parquet")  # fmt: skip

    near = offset(*SCENE, 1000.0, 0.0)
    write(day1, midnight - timedelta(hours=3), 170, "P-MIDNIGHT", near)  # stops at 23:50
    write(day2, midnight + timedelta(minutes=30), 120, "P-MIDNIGHT", near)  # back at 00:30
    write(day1, midnight - timedelta(hours=3), 180, "P-STEADY", near)
    write(day2, midnight, 150, "P-STEADY", near)
    write(day2, midnight, 150, "P-AT", SCENE)
    crime = [
        CrimeWindow("k", "MID-1", *SCENE, midnight - timedelta(minutes=5), midnight + timedelta(minutes=20))
    ]
    with_cov = offline.run(crime, lake=str(tmp_path / "lake"), coverage=True)
    assert (tmp_path / "lake" / "_coverage" / "date=2026-11-03.parquet").is_file()
    without = offline.run(crime, lake=str(tmp_path / "lake"), coverage=False)
    for r in (with_cov[0], without[0]):
        assert [p.person_id for p in r.passes] == ["P-AT"]
        assert {u.person_id for u in r.unknown} == {"P-MIDNIGHT"}
    assert with_cov[0].ruled_out == 1  # P-STEADY: seen every minute across midnight, 1 km away
