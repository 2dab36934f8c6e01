"""The orjson parser gives exactly the messages, flags and rejections of the standard-library one, for good,
malformed, hostile and oversized batches (decision 0027: same validation, same rejections)."""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from openem.core.time import iso
from openem.telemetry.wire import MAX_MESSAGE_BYTES, parse_batch

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
WHEN = iso(NOW)


def _gps(seq, **payload):
    p = {"lat": 53.8, "lon": -1.55, "accuracy_m": 8.0, "source": "GPS", **payload}
    return {"v": 1, "device_id": "d1", "seq": seq, "type": "gps", "device_time": iso(NOW - timedelta(seconds=seq)),
            "payload": p}  # fmt: skip


GOOD = json.dumps([_gps(i) for i in range(20)])
CASES = {
    "good": GOOD,
    "json_lines": "\n".join(json.dumps(_gps(i)) for i in range(5)),
    "nan_and_infinity": '[{"v":1,"device_id":"d","seq":1,"type":"gps","device_time":"' + WHEN + '",'
    '"payload":{"lat":NaN,"lon":Infinity,"accuracy_m":-Infinity,"source":"GPS"}}]',
    "int_over_64_bits": '[{"v":1,"device_id":"d","seq":'
    + str(2**70)
    + ',"type":"heartbeat","device_time":"'
    + WHEN
    + '"}]',
    "float_overflow": GOOD.replace("53.8", "1e400", 1),
    "lone_surrogate": GOOD.replace('"d1"', '"\\ud800"', 1),
    "surrogate_in_tag": json.dumps(
        [
            {
                "v": 1,
                "device_id": "d",
                "seq": 1,
                "type": "rf",
                "device_time": iso(NOW),
                "payload": {"present": True, "tag_id": "\\udfff"},
            }
        ]
    ).replace("\\\\u", "\\u"),
    "deep_nesting": "[" * 5000 + "]" * 5000,
    "deep_payload": json.dumps([_gps(1)])[:-2] + ',"x":' + "[" * 3000 + "]" * 3000 + "}]",
    "truncated": GOOD[:-40],
    "garbage_line": json.dumps(_gps(1)) + "\n{not json}\n" + json.dumps(_gps(2)),
    "not_objects": '[1, "two", null, true, [3]]',
    "bools_as_numbers": json.dumps([_gps(1, lat=True)]),
    "duplicate_in_batch": json.dumps([_gps(1), _gps(1)]),
    "duplicate_keys": '[{"seq":1,"seq":2,"v":1,"device_id":"d","type":"heartbeat","device_time":"'
    + WHEN
    + '"}]',
    "future": json.dumps([_gps(1) | {"device_time": iso(NOW + timedelta(hours=1))}]),
    "unknown_type": json.dumps([_gps(1) | {"type": "teleport"}]),
    "big_ascii": json.dumps([_gps(1, tag=("x" * (MAX_MESSAGE_BYTES - 200)))]),
    "big_over": json.dumps([_gps(1, tag=("x" * MAX_MESSAGE_BYTES))]),
    # non-ASCII text near the limit: 8 KiB measured as the standard library writes it (\\uXXXX escapes)
    "big_unicode_under": json.dumps([_gps(1, tag=("é" * (MAX_MESSAGE_BYTES // 6 - 60)))], ensure_ascii=False),
    "big_unicode_over": json.dumps([_gps(1, tag=("é" * (MAX_MESSAGE_BYTES // 6 + 10)))], ensure_ascii=False),
    "big_emoji_over": json.dumps([_gps(1, tag=("😀" * (MAX_MESSAGE_BYTES // 12 + 5)))], ensure_ascii=False),
    "exponent_floats": json.dumps([_gps(1, hdop=1e-05, speed_mps=1e-7)]),
    "nul_bytes": GOOD.replace('"d1"', '"d\\u0000"', 1),
    "invalid_utf8": GOOD.encode()[:30] + b"\xff\xfe" + GOOD.encode()[30:],
    "empty": "   ",
    "bom": b"\xef\xbb\xbf" + GOOD.encode(),
    "padded": b"  \n" + GOOD.encode() + b"\n\t ",
    "surrogatepass_text": GOOD.replace('"d1"', '"d\ud83d"', 1),
    "single_object": json.dumps(_gps(3)),
}


def _same(raw):
    a = parse_batch(raw, NOW, codec="json")
    b = parse_batch(raw, NOW, codec="orjson")
    assert b.messages == a.messages
    assert [r.to_dict() for r in b.rejections] == [r.to_dict() for r in a.rejections]
    return a


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_same_messages_and_rejections(name):
    _same(CASES[name])


def test_the_cases_cover_both_outcomes():
    outcomes = {name: _same(raw) for name, raw in CASES.items()}
    assert outcomes["good"].messages and not outcomes["good"].rejections
    assert [r.code for r in outcomes["big_unicode_over"].rejections] == ["oversized"]
    assert not outcomes["big_unicode_under"].rejections
    assert [r.code for r in outcomes["nan_and_infinity"].rejections] == ["wrong_type"]


def test_mutated_batches_parse_the_same():
    rng = random.Random(18)
    base = GOOD.encode()
    for _ in range(400):
        blob = bytearray(base)
        for _ in range(rng.randrange(1, 6)):
            op = rng.random()
            i = rng.randrange(len(blob))
            if op < 0.4:
                blob[i] = rng.randrange(256)
            elif op < 0.7:
                del blob[i : i + rng.randrange(1, 20)]
            else:
                blob[i:i] = rng.choice(
                    [b"NaN", b"\\ud800", b"1e999", b"[[[[", b"\n", b'"', b"99999999999999999999999"]
                )
        _same(bytes(blob))
