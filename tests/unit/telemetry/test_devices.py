"""GT06 and OsmAnd decoding: real frames read right; bad, hostile and oversized frames parked, never fatal."""

import json
from datetime import UTC, datetime, timedelta

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
    obj, bad = d.osmand({"id": "phone-1", "lat": "53.8", "lon": "-1.55", "timestamp": str(int(T.timestamp())),
                         "speed": "10", "bearing": "45", "accuracy": "12", "batt": "80"}, NOW)  # fmt: skip
    assert bad is None and obj is not None
    assert obj["payload"]["speed_mps"] == 5.14 and obj["payload"]["accuracy_m"] == 12.0
    result = parse_batch(json.dumps([obj]), NOW)
    assert result.rejections == [] and result.messages[0].device_time == T


def test_osmand_bad_queries_are_parked_with_a_reason():
    assert d.osmand({"lat": "1", "lon": "2"}, NOW)[1].code == "missing_field"
    assert d.osmand({"id": "p", "lat": "north", "lon": "2"}, NOW)[1].code == "malformed"
    assert d.osmand({"id": "p", "lon": "2"}, NOW)[1].code == "malformed"
