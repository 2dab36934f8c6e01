"""`openem monitor replay` on bad input: it keeps going, says what it rejected and why, and the good data gives
the alerts it gives without the bad lines."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from openem.monitoring import cli

from .fixtures import HOME, T0, Device, activation, offset, order, square

ZONE = offset(*HOME, 3000, 0)


def good_lines() -> list[str]:
    g, h = Device("GPS-1"), Device("HMU-1")
    msgs = [g.fix(T0 + timedelta(minutes=i), *(ZONE if 30 <= i < 35 else HOME)) for i in range(0, 600)]
    msgs += [h.msg("rf", T0.replace(hour=18), present=True), h.msg("rf", T0.replace(hour=22), present=False)]
    return [json.dumps(m) for m in sorted(msgs, key=lambda m: m["receive_time"])]


def bad_lines() -> list[str]:
    bad = Device("GPS-9")  # a device of its own, so that the good devices' sequence numbers are untouched
    future = bad.msg("gps", T0, lat=HOME[0], lon=HOME[1], accuracy_m=5, source="GPS")
    future["device_time"] = (T0 + timedelta(hours=2)).isoformat().replace("+00:00", "Z")  # after its receipt
    return [
        good_lines()[3][:40],  # a line cut short
        json.dumps([1, 2, 3]),  # not an object
        json.dumps({**bad.fix(T0, *HOME), "junk": "x" * 9000}),  # oversized
        json.dumps(future),
        json.dumps(bad.fix(T0 + timedelta(minutes=1), 95.0, HOME[1])),  # latitude out of range
    ]


def world(tmp_path, lines: list[str], name: str) -> list[str]:  # noqa: ANN001
    (tmp_path / "orders.jsonl").write_text(json.dumps(order(
        exclusion_zones=[{"id": "Z1", "name": "Z", "geometry": square(*ZONE, 200)}],
        curfew={"start": "2026-11-20T00:00:00Z", "end": "2027-01-01T00:00:00Z",
                "timetable": [{"day": "MONDAY", "start": "19:00", "end": "07:00"}]})) + "\n")  # fmt: skip
    acts = pd.DataFrame([activation("GPS-1"), activation("HMU-1", "HMU"), activation("GPS-9")]).assign(
        end=None
    )
    pq.write_table(pa.Table.from_pandas(acts), tmp_path / "activations.parquet")
    (tmp_path / f"{name}.jsonl").write_text("\n".join(lines) + "\n")
    return ["monitor", "replay", "--orders", str(tmp_path / "orders.jsonl"), "--activations",
            str(tmp_path / "activations.parquet"), "--telemetry", str(tmp_path / f"{name}.jsonl"),
            "--out", str(tmp_path / f"{name}-alerts.jsonl")]  # fmt: skip


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    cli.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    return args.func(args)


def alert_ids(path) -> list[str]:  # noqa: ANN001
    return sorted(json.loads(line)["id"] for line in path.read_text().splitlines())


def test_bad_lines_are_rejected_with_reasons_and_the_good_ones_give_the_same_alerts(tmp_path, capsys) -> None:
    good = good_lines()
    assert run(world(tmp_path, good, "clean")) == 0
    mixed = good[:100] + bad_lines()[:3] + good[100:400] + bad_lines()[3:] + good[400:]
    assert run(world(tmp_path, mixed, "mixed")) == 0
    assert alert_ids(tmp_path / "mixed-alerts.jsonl") == alert_ids(tmp_path / "clean-alerts.jsonl")
    assert "exclusion_entry" in (tmp_path / "mixed-alerts.jsonl").read_text()
    rows = [
        json.loads(line)
        for line in (tmp_path / "mixed-alerts.jsonl.rejections.jsonl").read_text().splitlines()
    ]
    assert [(r["line"], r["reason"]) for r in rows] == [(101, "unreadable_json"), (102, "not_object"), (103, "oversized"),
                                                        (404, "future_dated"), (405, "out_of_range")]  # fmt: skip
    assert all(r["source"].endswith("mixed.jsonl") and len(r["raw"]) <= 512 for r in rows)
    assert rows[0]["raw"] == mixed[100][:512] + "\n"
    summary = capsys.readouterr().err.strip().splitlines()[-1]
    assert summary.startswith(
        f"read {len(mixed):,} telemetry messages, processed {len(good):,}; rejected 5 input lines"
    )
    assert "future_dated 1, not_object 1, out_of_range 1, oversized 1, unreadable_json 1" in summary


def test_nothing_readable_is_an_error_and_a_missing_file_a_clear_message(tmp_path, capsys) -> None:
    assert run(world(tmp_path, bad_lines(), "bad")) == 1
    assert "no telemetry could be used" in capsys.readouterr().err
    assert len((tmp_path / "bad-alerts.jsonl.rejections.jsonl").read_text().splitlines()) == 5
    argv = world(tmp_path, good_lines(), "ok")
    argv[argv.index("--telemetry") + 1] = str(tmp_path / "missing.jsonl")
    assert run(argv) == 1
    assert "cannot read the input" in capsys.readouterr().err


def test_a_truncated_order_line_is_rejected_and_the_other_orders_replayed(tmp_path) -> None:
    argv = world(tmp_path, good_lines(), "fleet")
    with open(tmp_path / "orders.jsonl", "a") as fh:
        fh.write('{"ref": "ORD-2", "conditions": {"curf\n')
    assert run(argv) == 0
    assert "exclusion_entry" in (tmp_path / "fleet-alerts.jsonl").read_text()
    [row] = [
        json.loads(x) for x in (tmp_path / "fleet-alerts.jsonl.rejections.jsonl").read_text().splitlines()
    ]
    assert row["source"].endswith("orders.jsonl") and row["line"] == 2 and row["reason"] == "unreadable_json"
