"""Wire parsing: valid messages pass, contract breaches are rejected with a reason, hostile input never crashes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from openem.telemetry.wire import (
    json_schema,
    messages_to_table,
    parse_batch,
    parse_message,
    table_to_messages,
)

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def gps(seq: int = 1, lat: float = 53.8, lon: float = -1.55, **extra: object) -> dict:
    msg = {"v": 1, "device_id": "GPS-0001", "seq": seq, "type": "gps", "device_time": "2026-11-22T11:59:00Z",
           "payload": {"lat": lat, "lon": lon, "accuracy_m": 8.0, "source": "GPS"}}  # fmt: skip
    msg.update(extra)
    return msg


def test_valid_gps_fix_is_accepted_with_receive_time_set_by_openem() -> None:
    msg, rej = parse_message(gps(receive_time="1999-01-01T00:00:00Z"), NOW)
    assert rej is None and msg is not None
    assert msg.receive_time == NOW
    assert msg.device_time == datetime(2026, 11, 22, 11, 59, tzinfo=UTC)
    assert msg.payload["lat"] == 53.8 and "receive_time_ignored" in msg.flags


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda m: m["payload"].pop("lat"), "missing_field"),
        (lambda m: m["payload"].update(lat=91.0), "out_of_range"),
        (lambda m: m["payload"].update(lon="x"), "wrong_type"),
        (lambda m: m.update(type="teleport"), "unknown_type"),
        (lambda m: m.update(device_time="2026-11-22T12:06:00Z"), "future_dated"),
        (lambda m: m.update(device_time="yesterday"), "bad_device_time"),
        (lambda m: m.update(device_id="bad id!"), "bad_device_id"),
        (lambda m: m.update(seq=-1), "bad_seq"),
        (lambda m: m.update(v=2), "unsupported_version"),
        (lambda m: m["payload"].update(source="PIGEON"), "out_of_range"),
    ],
)
def test_contract_breaches_are_rejected_with_a_code_and_reason(mutate, code) -> None:
    m = gps()
    mutate(m)
    msg, rej = parse_message(m, NOW)
    assert msg is None and rej is not None
    assert rej.code == code and rej.reason


def test_four_minutes_in_the_future_is_still_accepted() -> None:
    msg, rej = parse_message(gps(device_time="2026-11-22T12:04:00Z"), NOW)
    assert rej is None and msg is not None


def test_valid_coordinates_outside_england_and_wales_are_flagged_not_rejected() -> None:
    msg, rej = parse_message(gps(lat=48.85, lon=2.35), NOW)
    assert rej is None and msg is not None and "outside_england_wales" in msg.flags


def test_truncated_array_keeps_the_good_messages_before_the_break() -> None:
    body = json.dumps([gps(1), gps(2), gps(3)])
    result = parse_batch(body[:-40].encode(), NOW)
    assert [m.seq for m in result.messages] == [1, 2]
    assert result.rejections and result.rejections[-1].code in {"truncated", "malformed_json"}


def test_json_lines_with_a_garbage_line_and_an_invalid_message() -> None:
    lines = [json.dumps(gps(1)), "{not json", json.dumps(gps(2, lat=200)), json.dumps(gps(3))]
    result = parse_batch("\n".join(lines).encode(), NOW)
    assert [m.seq for m in result.messages] == [1, 3]
    assert {r.code for r in result.rejections} == {"malformed_json", "out_of_range"}


def test_duplicates_in_a_batch_are_flagged_and_oversized_messages_rejected() -> None:
    big = gps(9)
    big["payload"]["junk"] = "x" * 10_000
    result = parse_batch(json.dumps([gps(1), gps(1), big]).encode(), NOW)
    assert [m.flags for m in result.messages] == [(), ("duplicate_in_batch",)]
    assert [r.code for r in result.rejections] == ["oversized"]


def test_columnar_round_trip_preserves_messages() -> None:
    raw = [gps(1), {"device_id": "HMU-1", "seq": 5, "type": "rf", "device_time": "2026-11-22T11:00:00Z",
                    "payload": {"present": True, "tag_id": "T1"}},
           {"device_id": "AT-1", "seq": 6, "type": "tamper", "device_time": "2026-11-22T11:00:00Z",
            "payload": {"kind": "strap", "state": "open"}},
           {"device_id": "AT-1", "seq": 7, "type": "heartbeat", "device_time": "2026-11-22T11:00:00Z"}]  # fmt: skip
    messages = parse_batch(json.dumps(raw), NOW).messages
    back = table_to_messages(messages_to_table(messages))
    assert [(m.device_id, m.seq, m.type, m.device_time, m.payload) for m in back] == [
        (m.device_id, m.seq, m.type, m.device_time, m.payload) for m in messages
    ]


def test_json_schema_agrees_with_the_parser_on_examples() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    assert validator.is_valid(gps())
    bad = gps()
    bad["payload"]["lat"] = 123
    assert not validator.is_valid(bad)
    assert parse_message(bad, NOW)[1] is not None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=400))
def test_fuzz_random_bytes_never_raise(raw: bytes) -> None:
    result = parse_batch(raw, NOW)
    assert all(m.device_id for m in result.messages)


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["v", "device_id", "seq", "type", "device_time", "payload"]), json_values)
)
def test_fuzz_hostile_envelopes_never_raise_and_give_exactly_one_outcome(obj: dict) -> None:
    msg, rej = parse_message(obj, NOW)
    assert (msg is None) != (rej is None)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.floats(-100, 100), st.floats(-200, 200), st.integers(-600, 600)), min_size=1, max_size=8
    ),
    st.integers(0, 200),
)
def test_fuzz_good_messages_survive_a_corrupted_tail(rows, cut) -> None:
    msgs = [gps(i, lat=lat, lon=lon, device_time=(NOW + timedelta(seconds=s)).isoformat().replace("+00:00", "Z"))
            for i, (lat, lon, s) in enumerate(rows)]  # fmt: skip
    good = {m["seq"] for m in msgs if -90 <= m["payload"]["lat"] <= 90 and -180 <= m["payload"]["lon"] <= 180
            and int(m["device_time"][17:19]) >= 0 and parse_message(m, NOW)[0] is not None}  # fmt: skip
    body = "\n".join(json.dumps(m) for m in msgs) + "\n" + '{"device_id": "X", "seq": 1'[: cut % 27]
    result = parse_batch(body.encode(), NOW)
    assert {m.seq for m in result.messages} == good
    assert len(result.messages) + len([r for r in result.rejections if r.seq is not None]) <= len(msgs) + 1


def _motion(**payload) -> dict:
    return {"v": 1, "device_id": "GPS-1", "seq": 9, "type": "motion", "device_time": "2026-11-22T11:00:00Z",
            "payload": payload}  # fmt: skip


def test_a_motion_report_says_moving_or_still_with_optional_steps_and_survives_the_columnar_form() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    good = [_motion(moving=True, steps=42), _motion(moving=False), _motion(moving=True, accel_mps2=1.8)]
    for raw in good:
        msg, rej = parse_message(raw, NOW)
        assert rej is None and msg is not None and validator.is_valid(raw)
    messages = parse_batch(json.dumps(good), NOW).messages
    back = table_to_messages(messages_to_table(messages))
    assert [m.payload for m in back] == [{"moving": True, "steps": 42}, {"moving": False},
                                         {"moving": True, "accel_mps2": 1.8}]  # fmt: skip


@pytest.mark.parametrize(
    ("payload", "code"),
    [({}, "missing_field"), ({"moving": "yes"}, "wrong_type"), ({"moving": True, "steps": -1}, "out_of_range"),
     ({"moving": True, "steps": 1e12}, "out_of_range"), ({"moving": True, "accel_mps2": "fast"}, "wrong_type")],
)  # fmt: skip
def test_a_malformed_motion_report_is_rejected_by_the_parser_and_the_schema(payload, code) -> None:
    raw = _motion(**payload)
    msg, rej = parse_message(raw, NOW)
    assert msg is None and rej is not None and rej.code == code
    assert not jsonschema.Draft202012Validator(json_schema()).is_valid(raw)
