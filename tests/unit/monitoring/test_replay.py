"""Replay of a hand-made world: the same alerts whatever the batch size, scored against a truth table."""

from __future__ import annotations

import json
from datetime import timedelta

import pandas as pd

from openem.monitoring import cli, replay
from openem.monitoring.engine import Engine
from openem.telemetry.wire import messages_to_table, parse_message

from .fixtures import HOME, T0, Device, activation, offset, order, square


def world() -> tuple[list[dict], list[dict], object]:
    zone = offset(*HOME, 3000, 0)
    docs = [order(exclusion_zones=[{"id": "Z1", "name": "Z", "geometry": square(*zone, 200)}],
                  curfew={"start": "2026-11-20T00:00:00Z", "end": "2027-01-01T00:00:00Z",
                          "timetable": [{"day": "MONDAY", "start": "19:00", "end": "07:00"}]})]  # fmt: skip
    acts = [activation("GPS-1"), activation("HMU-1", "HMU")]
    g, h = Device("GPS-1"), Device("HMU-1")
    msgs = [g.fix(T0 + timedelta(minutes=i), *(zone if 30 <= i < 35 else HOME)) for i in range(0, 600)]
    msgs += [h.msg("rf", T0.replace(hour=18), present=True), h.msg("rf", T0.replace(hour=22), present=False)]
    msgs += [h.msg("heartbeat", T0 + timedelta(hours=k)) for k in range(10)]
    parsed = [parse_message(m, pd.Timestamp(m["receive_time"]).to_pydatetime())[0] for m in msgs]
    return docs, acts, messages_to_table(parsed).sort_by("receive_time")


def test_replay_is_deterministic_and_scores_against_truth() -> None:
    docs, acts, table = world()
    until = (T0 + timedelta(hours=20)).timestamp()
    a1, _ = replay.replay(docs, acts, table, batch_s=60, until=until)
    a2, _ = replay.replay(docs, acts, table, batch_s=60, until=until)
    assert a1 == a2
    kinds = {a["kind"] for a in a1}
    assert {"exclusion_entry", "curfew_early_leave"} <= kinds
    truth = pd.DataFrame([{"kind": "exclusion_entry", "is_violation": True, "order_ref": "ORD-1",
                           "start": pd.Timestamp(T0 + timedelta(minutes=30)), "end": pd.Timestamp(T0 + timedelta(minutes=35))},
                          {"kind": "proximity", "is_violation": True, "order_ref": "ORD-1",
                           "start": pd.Timestamp(T0), "end": pd.Timestamp(T0 + timedelta(minutes=1))}])  # fmt: skip
    report = replay.accuracy(truth, a1, wearer_days=1.0)
    assert report["recall_by_kind"]["exclusion_entry"]["recall"] == 1.0
    assert report["recall_by_kind"]["proximity"]["recall"] == 0.0
    assert report["violation_recall"] == 0.5


def test_truth_split_at_the_simulators_day_boundary_is_joined_back_into_one_episode() -> None:
    day2 = T0 + timedelta(hours=10)
    rows = [("low_battery", "ORD-1", "GPS-1", T0, day2),
            ("low_battery", "ORD-1", "GPS-1", day2 + timedelta(seconds=30), day2 + timedelta(hours=5)),  # same run
            ("low_battery", "ORD-1", "GPS-1", day2 + timedelta(hours=9), day2 + timedelta(hours=10)),  # a new one
            ("low_battery", "ORD-2", "GPS-2", day2 + timedelta(seconds=30), day2 + timedelta(hours=1))]  # fmt: skip
    truth = pd.DataFrame([{"kind": k, "is_violation": True, "order_ref": o, "device_id": d, "condition_id": "",
                           "start": pd.Timestamp(s), "end": pd.Timestamp(e)} for k, o, d, s, e in rows])  # fmt: skip
    joined = replay.coalesce(truth).sort_values(["order_ref", "start"]).reset_index(drop=True)
    assert list(joined["order_ref"]) == ["ORD-1", "ORD-1", "ORD-2"]
    assert joined.loc[0, "start"] == pd.Timestamp(T0)
    assert joined.loc[0, "end"] == pd.Timestamp(day2 + timedelta(hours=5))
    # one alert at the start of the run now counts once against one true episode, not one hit and one miss
    alert = {"kind": "low_battery", "order_ref": "ORD-1", "start": T0.isoformat(), "end": None}
    report = replay.accuracy(truth.iloc[:2], [alert], wearer_days=1.0)
    assert report["recall_by_kind"]["low_battery"] == {"found": 1, "true": 1, "recall": 1.0}


def test_world_end_is_the_last_days_07_00_in_london() -> None:
    end = replay.world_end({"start": "2026-10-24T07:00 Europe/London", "days": 3})
    assert end == pd.Timestamp("2026-10-27T07:00:00Z").timestamp()  # GMT again after the 25th
    assert replay.world_end({"start": "2026-11-02T07:00", "days": 1}) is None


def test_cli_replay_writes_json_lines(tmp_path) -> None:
    import pyarrow.parquet as pq

    docs, acts, table = world()
    (tmp_path / "orders.jsonl").write_text("".join(json.dumps(d) + "\n" for d in docs))
    pq.write_table(pd.DataFrame(acts).assign(end=None).pipe(lambda df: __import__("pyarrow").Table.from_pandas(df)),
                   tmp_path / "activations.parquet")  # fmt: skip
    pq.write_table(table, tmp_path / "telemetry.parquet")
    out = tmp_path / "alerts.jsonl"
    parser = __import__("argparse").ArgumentParser()
    cli.register(parser.add_subparsers())
    base = [
        "monitor",
        "replay",
        "--orders",
        str(tmp_path / "orders.jsonl"),
        "--activations",
        str(tmp_path / "activations.parquet"),
        "--telemetry",
        str(tmp_path / "telemetry.parquet"),
        "--out",
        str(out),
    ]
    args = parser.parse_args(base)
    assert args.func(args) == 0
    alerts = [json.loads(line) for line in out.read_text().splitlines()]
    assert "exclusion_entry" in {a["kind"] for a in alerts}
    assert all(a["id"].startswith("ALR-") for a in alerts)
    for bad in (
        ["--batch-rows", "-1"],
        ["--batch-seconds", "0"],
    ):  # refused with a clear message, nothing written
        out.unlink(missing_ok=True)
        again = parser.parse_args([*base, *bad])
        assert again.func(again) == 2 and not out.exists()
    one_row = parser.parse_args([*base, "--batch-rows", "1"])
    assert one_row.func(one_row) == 0  # a batch per receive instant: the same alerts
    assert sorted(json.loads(line)["id"] for line in out.read_text().splitlines()) == sorted(
        a["id"] for a in alerts
    )


def test_order_ended_live_stops_its_rules() -> None:
    eng = Engine()
    docs, acts, _ = world()
    eng.apply_order(docs[0])
    for a in acts:
        eng.apply_activation(a)
    eng.end_order("ORD-1", at=T0.timestamp())
    g = Device("GPS-1")
    zone = offset(*HOME, 3000, 0)
    assert eng.process([g.fix(T0 + timedelta(minutes=i), *zone) for i in range(3)]) == []


def test_batches_are_cut_by_receive_time_and_by_rows_without_splitting_an_instant() -> None:
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=200, deadline=None)
    @given(st.lists(st.integers(0, 50), min_size=1, max_size=120), st.sampled_from([10.0, 60.0, 1e9]),
           st.sampled_from([None, 1, 3, 7]))  # fmt: skip
    def check(steps, batch_s, max_rows) -> None:  # noqa: ANN001
        rx = 1_763_000_000.0 + np.cumsum(np.array(steps, dtype=np.float64))  # ascending, with ties
        parts = replay.cuts(rx, batch_s, max_rows)
        assert parts[0][0] == 0 and parts[-1][1] == len(rx)
        assert all(a[1] == b[0] and a[0] < a[1] for a, b in zip(parts, parts[1:], strict=False))
        for lo, hi in parts:
            assert len({int(x // batch_s) for x in rx[lo:hi]}) == 1  # one receive-time bucket
            assert lo == 0 or rx[lo] != rx[lo - 1]  # an instant is never split
            if max_rows:  # longer than asked only by the rows of one instant its cut was moved back over
                longest = max(np.unique(rx[lo:hi], return_counts=True)[1])
                assert hi - lo <= max_rows + longest
        if max_rows is None:
            assert parts == replay.cuts(rx, batch_s)

    check()
