"""Teltonika Codec 8 / 8E: decoded from the example packets in Teltonika's protocol description, and never
thrown by a malformed, hostile or oversized stream."""

from datetime import UTC, datetime

from openem.telemetry import teltonika as tk
from openem.telemetry.wire import parse_batch

# Codec 8 examples 1-3 of wiki.teltonika-gps.com/view/Codec (one record with IO elements of each size; one
# with a 2-byte IO; two records)
EXAMPLE_1 = bytes.fromhex(
    "000000000000003608010000016B40D8EA30010000000000000000000000000000000105021503010101425E0F01F10000601A"
    "014E0000000000000000010000C7CF"
)
EXAMPLE_2 = bytes.fromhex(
    "000000000000002808010000016B40D9AD80010000000000000000000000000000000103021503010101425E100000010000F22A"
)
EXAMPLE_3 = bytes.fromhex(
    "000000000000004308020000016B40D57B480100000000000000000000000000000001010101000000000000016B40D5C198"
    "010000000000000000000000000000000101010101000000020000252C"
)
IMEI = "356307042441013"


def test_the_checksum_is_crc16_ibm_as_in_the_published_examples():
    for pkt in (EXAMPLE_1, EXAMPLE_2, EXAMPLE_3):
        data = pkt[8:-4]
        assert tk.crc16_ibm(data) == int.from_bytes(pkt[-4:], "big")
    assert tk.crc16_ibm(b"123456789") == 0xBB3D  # the CRC-16/ARC check value


def test_the_published_examples_decode_to_their_records_and_io():
    s = tk.Stream()
    events = s.feed(tk.imei_packet(IMEI) + EXAMPLE_1 + EXAMPLE_2 + EXAMPLE_3)
    assert [e.kind for e in events] == ["imei", "packet", "packet", "packet"]
    assert events[0].imei == IMEI
    one = events[1].records[0]
    assert datetime.fromtimestamp(one.timestamp_ms / 1000, UTC) == datetime(
        2019, 6, 10, 10, 4, 46, tzinfo=UTC
    )
    assert one.priority == 1 and one.event_io == 1
    assert one.io == {0x15: 3, 0x01: 1, 0x42: 0x5E0F, 0xF1: 0x601A, 0x4E: 0}
    assert events[2].records[0].io == {0x15: 3, 0x01: 1, 0x42: 0x5E10}
    assert [r.io for r in events[3].records] == [{0x01: 0}, {0x01: 1}]


def test_codec_8e_with_variable_length_io_round_trips_and_becomes_wire_messages():
    t_ms = 1_764_000_000_000
    rec = tk.Record(
        t_ms, 1, -1.5491, 53.8008, 75, 270, 9, 36, 0, {tk.IO_HDOP: 9, tk.IO_BATTERY_PCT: 87, 0x2E0: b"ab"}
    )
    (ev,) = tk.Stream(imei=IMEI).feed(tk.packet([rec], tk.CODEC_8E))
    assert ev.kind == "packet" and ev.records == [rec]
    objs = tk.to_wire(rec, IMEI)
    parsed = parse_batch(__import__("json").dumps(objs), datetime(2026, 1, 1, tzinfo=UTC))
    assert not parsed.rejections
    gps, batt = parsed.messages
    assert (gps.type, round(gps.payload["lat"], 4), round(gps.payload["lon"], 4)) == ("gps", 53.8008, -1.5491)
    assert (
        gps.payload["speed_mps"] == 10.0
        and gps.payload["heading_deg"] == 270.0
        and gps.payload["hdop"] == 0.9
    )
    assert gps.payload["accuracy_m"] == 4.5
    assert (batt.type, batt.payload["level_pct"], batt.seq) == ("battery", 87.0, t_ms * 4 + 1)


def test_a_record_without_a_fix_is_a_heartbeat_not_a_position_at_null_island():
    rec = tk.Record(1_764_000_000_000, 0, 0.0, 0.0, 0, 0, 0, 0, 0, {})
    assert [o["type"] for o in tk.to_wire(rec, IMEI)] == ["heartbeat"]


def test_the_handshake_refuses_what_is_not_an_imei():
    for bad in (b"\x00\x00", b"\xff\xff" + b"1" * 40, b"\x00\x0f" + b"35630704244101X", b"\x00\x03abc"):
        s = tk.Stream()
        (ev,) = s.feed(bad)
        assert ev.kind == "bad_imei" and s.closed and ev.parked is not None
        assert s.feed(EXAMPLE_1) == []  # nothing more is read from a refused connection


def test_corrupt_truncated_and_hostile_packets_are_parked_and_the_stream_goes_on():
    corrupt = bytearray(EXAMPLE_1)
    corrupt[20] ^= 0x01
    wrong_codec = bytearray(EXAMPLE_2)
    wrong_codec[8] = 0x0C  # codec 12 (commands) with a valid checksum
    wrong_codec[-4:] = tk.crc16_ibm(bytes(wrong_codec[8:-4])).to_bytes(4, "big")
    lying_count = bytearray(EXAMPLE_2)
    lying_count[9] = 5  # says five records, holds one
    lying_count[-4:] = tk.crc16_ibm(bytes(lying_count[8:-4])).to_bytes(4, "big")
    s = tk.Stream(imei=IMEI)
    events = s.feed(
        b"GET / HTTP/1.1\r\n" + bytes(corrupt) + bytes(wrong_codec) + bytes(lying_count) + EXAMPLE_2
    )
    kinds = [(e.kind, e.parked.code if e.parked else None) for e in events]
    assert kinds[-1] == ("packet", None)
    codes = [c for _, c in kinds[:-1]]
    assert "no_preamble" in codes and "bad_crc" in codes and codes.count("malformed") == 2


def test_a_packet_split_into_single_bytes_decodes_once_whole():
    s = tk.Stream(imei=IMEI)
    events = [e for b in EXAMPLE_3 for e in s.feed(bytes([b]))]
    assert [e.kind for e in events] == ["packet"] and len(events[0].records) == 2


def test_an_oversized_declared_length_closes_the_stream_without_holding_the_bytes():
    s = tk.Stream(imei=IMEI)
    (ev,) = s.feed(b"\x00\x00\x00\x00" + (10**9).to_bytes(4, "big") + b"\x08")
    assert ev.parked is not None and ev.parked.code == "oversized" and s.closed and not s.buffer


def test_random_bytes_never_raise():
    import random

    rng = random.Random(7)
    for _ in range(300):
        s = tk.Stream(imei=IMEI if rng.random() < 0.5 else None)
        blob = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300)))
        if rng.random() < 0.5:
            blob = EXAMPLE_1[: rng.randrange(len(EXAMPLE_1))] + blob
        s.feed(blob)


def test_a_record_dated_beyond_any_calendar_is_refused_not_raised():
    rec = tk.Record(2**64 - 1, 0, 1.0, 52.0, 0, 0, 5, 0, 0, {})
    (ev,) = tk.Stream(imei=IMEI).feed(tk.packet([rec]))
    parsed = parse_batch(
        __import__("json").dumps(tk.to_wire(ev.records[0], IMEI)), datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert [r.code for r in parsed.rejections] == ["bad_device_time"] and not parsed.messages
