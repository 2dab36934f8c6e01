"""GT06 and OsmAnd decoding: real frames read right; bad, hostile and oversized frames parked, never fatal."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from openem.core.time import iso
from openem.telemetry import devices as d
from openem.telemetry.wire import parse_batch

T = datetime(2026, 12, 2, 6, 30, 15, tzinfo=UTC)
NOW = T + timedelta(seconds=5)


def test_crc_itu_matches_the_published_check_value():
    assert d.crc_itu(b"123456789") == 0x906E  # CRC-16/X-25 check value


def test_a_login_then_location_decodes_to_a_valid_wire_message():
    stream = d.login_frame("359710049095095") + d.location_frame(
        T, 53.8008, -1.5491, serial=7, speed_kmh=36, course=90
    )
    frames, parked = d.Splitter().feed(stream)
    assert parked == [] and [f.protocol for f in frames] == [0x01, 0x12]
    assert d.imei_of(frames[0].content) == "359710049095095"
    obj, bad = d.decode(frames[1], "359710049095095", NOW)
    assert bad is None and obj is not None
    p = obj["payload"]
    assert abs(p["lat"] - 53.8008) < 1e-5 and abs(p["lon"] + 1.5491) < 1e-5  # west is negative
    assert p["speed_mps"] == 10.0 and p["heading_deg"] == 90.0
    result = parse_batch(json.dumps([obj]), NOW)
    assert result.rejections == [] and result.messages[0].device_time == T


def test_frames_split_across_reads_are_reassembled():
    data = d.location_frame(T, 51.5, -0.12, serial=1) * 3
    sp = d.Splitter()
    got = []
    for i in range(0, len(data), 5):
        frames, parked = sp.feed(data[i : i + 5])
        assert parked == []
        got += frames
    assert [f.serial for f in got] == [1, 1, 1]


def test_one_bad_frame_never_stops_the_rest():
    good = d.location_frame(T, 51.5, -0.12, serial=2)
    corrupt = bytearray(d.location_frame(T, 51.5, -0.12, serial=3))
    corrupt[10] ^= 0xFF  # checksum no longer matches
    garbage = b"GET / HTTP/1.1\r\n\r\n"
    bad_stop = d.location_frame(T, 51.5, -0.12, serial=4)[:-2] + b"XX"
    frames, parked = d.Splitter().feed(garbage + bytes(corrupt) + bad_stop + good)
    assert [f.serial for f in frames] == [2]
    assert {p.code for p in parked} >= {"no_frame_start", "bad_crc", "bad_stop"}
    assert all(p.raw_hex for p in parked)  # the bytes are kept for people to see


def test_an_endless_stream_without_frames_is_dropped_not_held():
    sp = d.Splitter()
    _, parked = sp.feed(b"\x78\x78\xff" + b"\x00" * (d.MAX_BUFFER + 10))
    assert parked and len(sp.buffer) < 300  # a frame is at most 260 bytes: nothing more is ever held


def test_short_unknown_and_unauthenticated_frames_are_parked():
    short = d.Frame(0x12, b"\x01\x02", 1)
    assert d.decode(short, "1", NOW)[1].code == "short_location"
    assert d.decode(d.Frame(0x99, b"", 1), "1", NOW)[1].code == "unknown_protocol"
    assert d.decode(d.Frame(0x12, b"\x00" * 18, 1), None, NOW)[1].code == "not_logged_in"
    assert d.decode(d.Frame(0x12, b"\x00" * 18, 1), "1", NOW)[1].code == "malformed"  # month 0


def test_osmand_query_as_traccar_client_sends_it():
    objs, bad = d.osmand({"id": "phone-1", "lat": "53.8", "lon": "-1.55", "timestamp": str(int(T.timestamp())),
                          "speed": "10", "bearing": "45", "accuracy": "12", "batt": "80", "charge": "true",
                          "altitude": "120", "hdop": "1.2", "valid": "true", "cell": "234,10,1,2",
                          "wifi": "aa:bb:cc:dd:ee:ff,-60"}, NOW)  # fmt: skip
    assert bad is None
    gps, batt = objs
    assert gps["payload"]["speed_mps"] == 5.14 and gps["payload"]["accuracy_m"] == 12.0
    assert gps["payload"]["heading_deg"] == 45.0 and gps["payload"]["hdop"] == 1.2
    assert batt["payload"] == {"level_pct": 80.0, "charging": True}
    result = parse_batch(json.dumps(objs), NOW)
    assert result.rejections == [] and result.messages[0].device_time == T
    assert [m.type for m in result.messages] == ["gps", "battery"]


@pytest.mark.parametrize(
    "stamp",
    [
        str(int(T.timestamp())),
        str(int(T.timestamp() * 1000)),
        iso(T),
        T.strftime("%Y-%m-%d %H:%M:%S"),
        T.isoformat(),
    ],  # fmt: skip
)
def test_osmand_timestamps_in_every_form_traccar_accepts(stamp):
    objs, bad = d.osmand({"deviceid": "p", "location": "53.8,-1.55", "timestamp": stamp}, NOW)
    assert bad is None and objs[0]["device_time"] == iso(T)
    assert objs[0]["payload"]["lat"] == 53.8 and objs[0]["payload"]["lon"] == -1.55


def test_osmand_heading_and_hdop_alone():
    (gps,), _ = d.osmand({"id": "p", "lat": "53.8", "lon": "-1.55", "heading": "90", "hdop": "2"}, NOW)
    assert gps["payload"]["heading_deg"] == 90.0 and gps["payload"]["accuracy_m"] == 10.0


def test_osmand_an_invalid_fix_is_parked_but_its_battery_kept():
    objs, bad = d.osmand({"id": "p", "lat": "53.8", "lon": "-1.55", "valid": "false", "batt": "40"}, NOW)
    assert bad is not None and bad.code == "invalid_fix"
    assert [o["type"] for o in objs] == ["battery"]


def test_osmand_bad_queries_are_parked_with_a_reason():
    assert d.osmand({"lat": "1", "lon": "2"}, NOW)[1].code == "missing_field"
    assert d.osmand({"id": "p", "lat": "north", "lon": "2"}, NOW)[1].code == "malformed"
    assert d.osmand({"id": "p", "lon": "2"}, NOW)[1].code == "missing_field"
    assert d.osmand({"id": "p", "lat": "nan", "lon": "2"}, NOW)[1].code == "malformed"
    assert d.osmand({"id": "p", "lat": "1", "lon": "2", "timestamp": "9" * 30}, NOW)[1].code == "malformed"
    assert d.osmand({"id": "p", "lat": "1", "lon": "2", "timestamp": "yesterday"}, NOW)[1].code == "malformed"
    assert d.osmand({"id": "p", "location": "53.8", "timestamp": "1"}, NOW)[1].code == "malformed"
    far, bad = d.osmand(
        {"id": "p", "lat": "91", "lon": "2", "timestamp": str(int(NOW.timestamp()) + 86400)}, NOW
    )
    assert bad is None  # ranges and future times are the wire parser's to refuse, as for every source
    codes = sorted(r.code for r in parse_batch(json.dumps(far), NOW).rejections)
    assert codes == ["future_dated"] or codes == ["out_of_range"]


def test_osmand_json_body_of_newer_traccar_clients():
    body = {"device_id": "p", "location": {
        "timestamp": iso(T), "is_moving": True, "event": "motionchange", "odometer": 5,
        "coords": {"latitude": 53.8, "longitude": -1.55, "accuracy": 7, "speed": 1.5, "heading": 180,
                   "altitude": 40},
        "battery": {"level": 0.42, "is_charging": True}}}  # fmt: skip
    device, objs, parked = d.osmand_json(body, NOW)
    assert device == "p" and parked == []
    result = parse_batch(json.dumps(objs), NOW)
    assert not result.rejections
    gps, batt = result.messages
    assert gps.payload == {"lat": 53.8, "lon": -1.55, "accuracy_m": 7.0, "speed_mps": 1.5, "heading_deg": 180.0,
                           "source": "GPS"}  # fmt: skip
    assert batt.payload == {"level_pct": 42.0, "charging": True} and gps.device_time == T


def test_osmand_json_unknown_speed_and_bad_locations():
    body = {"device_id": "p", "location": [
        {"timestamp": iso(T), "coords": {"latitude": 53.8, "longitude": -1.55, "speed": -1, "heading": -1}},
        {"timestamp": iso(T), "coords": {"latitude": "x", "longitude": -1.55}},
        "not an object", {"timestamp": {"deep": [1]}, "coords": {}}]}  # fmt: skip
    _, objs, parked = d.osmand_json(body, NOW)
    assert (
        len(objs) == 1 and "speed_mps" not in objs[0]["payload"] and "heading_deg" not in objs[0]["payload"]
    )
    assert len(parked) == 3 and all(p.code == "malformed" for p in parked)
    assert d.osmand_json([1, 2], NOW)[2][0].code == "not_object"
    assert d.osmand_json({"location": {}}, NOW)[2][0].code == "missing_field"
    nested: object = {}
    for _ in range(2000):
        nested = {"a": nested}
    assert d.osmand_json({"device_id": "p", "location": nested}, NOW)[2]  # parked, not raised
