"""Teltonika Codec 8 and Codec 8 Extended over TCP, decoded into wire-format objects (docs/telemetry.md v1).

Facts from Teltonika's public protocol description (wiki.teltonika-gps.com, "Codec"); the code is our own:

- Handshake: the tracker first sends its IMEI as a 2-byte length and that many ASCII digits; the server
  answers one byte, 0x01 to accept or 0x00 to refuse.
- Then AVL data packets: 4 zero bytes (preamble), a 4-byte data length, the data (codec id 0x08 or 0x8E,
  number of records, the records, the number of records again), and a 4-byte CRC-16/IBM of the data (the
  upper two bytes zero). The server answers the number of records it accepted as a 4-byte integer; a tracker
  that gets fewer than it sent sends them again (so a bad packet is answered 0 and nothing is lost).
- A record: timestamp (8 bytes, ms since the epoch), priority (1), GPS element (longitude and latitude as
  signed 4-byte integers x 10^7, altitude 2 bytes signed, angle 2, satellites 1, speed 2 in km/h), then IO
  elements: Codec 8 has 1-byte ids and counts, groups of 1-, 2-, 4- and 8-byte values; Codec 8E has 2-byte ids
  and counts and a last group of variable-length values (2-byte length each).

Mapping to wire v1 (ours): a record with a fix becomes a `gps` message (accuracy from HDOP, IO 182, when the
tracker sends it, else from the satellite count), a record without a fix (0 satellites, 0/0) a `heartbeat`;
IO 113 (battery level, %) adds a `battery` message. `seq` = timestamp in ms x 4 + k (k: 0 position, 1 battery),
so (device, seq) is unique and a resent packet is recognised as a duplicate.

Nothing here raises on device input: a packet that cannot be read becomes a `Parked` record (hex kept).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from openem.core.time import iso
from openem.telemetry.devices import Parked

CODEC_8 = 0x08
CODEC_8E = 0x8E
MAX_PACKET = 64 * 1024  # a data length beyond this is refused rather than waited for
MAX_IMEI_LEN = 20
_KMH_TO_MPS = 1 / 3.6
IO_BATTERY_PCT = 113
IO_HDOP = 182  # x 0.1
IO_CHARGER = 116


def crc16_ibm(data: bytes) -> int:
    """CRC-16/IBM (ARC): reflected polynomial 0xA001, initial value 0, no final xor."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


@dataclass(frozen=True, slots=True)
class Record:
    timestamp_ms: int
    priority: int
    lon: float
    lat: float
    altitude_m: int
    angle: int
    satellites: int
    speed_kmh: int
    event_io: int
    io: dict[int, int | bytes]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ValueError("record runs past the end of the packet")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def sint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big", signed=True)


def decode_data(data: bytes) -> list[Record]:
    """The data field (codec id .. number of records 2) to records; raises ValueError when unreadable."""
    r = _Reader(data)
    codec = r.uint(1)
    if codec not in (CODEC_8, CODEC_8E):
        raise ValueError(f"codec 0x{codec:02x} is not decoded (only 0x08 and 0x8E)")
    wide = codec == CODEC_8E
    idn = 2 if wide else 1
    count = r.uint(1)
    records = []
    for _ in range(count):
        ts = r.uint(8)
        priority = r.uint(1)
        lon = r.sint(4) / 1e7
        lat = r.sint(4) / 1e7
        alt, angle, sats, speed = r.sint(2), r.uint(2), r.uint(1), r.uint(2)
        event_io = r.uint(idn)
        r.uint(idn)  # total IO count (the groups below say it again)
        io: dict[int, int | bytes] = {}
        for size in (1, 2, 4, 8):
            for _ in range(r.uint(idn)):
                key = r.uint(idn)
                io[key] = r.uint(size)
        if wide:
            for _ in range(r.uint(2)):
                key = r.uint(2)
                io[key] = r.take(r.uint(2))
        records.append(Record(ts, priority, lon, lat, alt, angle, sats, speed, event_io, io))
    if r.uint(1) != count:
        raise ValueError("the two record counts differ")
    if r.pos != len(data):
        raise ValueError(f"{len(data) - r.pos} bytes after the last record")
    return records


def to_wire(rec: Record, device_id: str) -> list[dict[str, Any]]:
    """One AVL record to wire objects (position or heartbeat, and battery when the tracker reports it); a
    record whose time cannot be a date becomes a wire object the parser refuses (stored as a rejection)."""
    try:
        t = datetime.fromtimestamp(rec.timestamp_ms / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return [{"v": 1, "device_id": device_id, "seq": rec.timestamp_ms % 2**62, "type": "gps",
                 "device_time": f"unreadable timestamp {rec.timestamp_ms}"}]  # fmt: skip
    base = {"v": 1, "device_id": device_id, "device_time": iso(t)}
    out: list[dict[str, Any]] = []
    if rec.satellites == 0 and rec.lat == 0 and rec.lon == 0:
        out.append({**base, "seq": rec.timestamp_ms * 4, "type": "heartbeat", "payload": {}})
    else:
        hdop_raw = rec.io.get(IO_HDOP)
        hdop = hdop_raw / 10 if isinstance(hdop_raw, int) else None
        payload: dict[str, Any] = {
            "lat": rec.lat,
            "lon": rec.lon,
            "accuracy_m": max(3.0, round(hdop * 5, 1))
            if hdop is not None
            else (10.0 if rec.satellites >= 4 else 100.0),
            "speed_mps": round(rec.speed_kmh * _KMH_TO_MPS, 2),
            "heading_deg": float(rec.angle % 360),
            "source": "GPS",
        }
        if hdop is not None:
            payload["hdop"] = hdop
        out.append({**base, "seq": rec.timestamp_ms * 4, "type": "gps", "payload": payload})
    level = rec.io.get(IO_BATTERY_PCT)
    if isinstance(level, int):
        out.append({**base, "seq": rec.timestamp_ms * 4 + 1, "type": "battery",
                    "payload": {"level_pct": level, "charging": bool(rec.io.get(IO_CHARGER, 0))}})  # fmt: skip
    return out


# ---- encoding (the simulator, tests and the benchmark) --------------------------------------------------


def encode_record(rec: Record, codec: int = CODEC_8) -> bytes:
    wide = codec == CODEC_8E
    idn = 2 if wide else 1
    out = rec.timestamp_ms.to_bytes(8, "big") + bytes([rec.priority])
    out += round(rec.lon * 1e7).to_bytes(4, "big", signed=True) + round(rec.lat * 1e7).to_bytes(
        4, "big", signed=True
    )
    out += rec.altitude_m.to_bytes(2, "big", signed=True) + rec.angle.to_bytes(2, "big")
    out += bytes([rec.satellites]) + rec.speed_kmh.to_bytes(2, "big")
    groups: dict[int, list[tuple[int, int | bytes]]] = {1: [], 2: [], 4: [], 8: [], 0: []}
    for key, value in rec.io.items():
        if isinstance(value, bytes):
            groups[0].append((key, value))
        else:
            groups[1 if value < 256 else 2 if value < 65536 else 4 if value < 2**32 else 8].append(
                (key, value)
            )
    out += rec.event_io.to_bytes(idn, "big") + len(rec.io).to_bytes(idn, "big")
    for size in (1, 2, 4, 8):
        out += len(groups[size]).to_bytes(idn, "big")
        for key, value in groups[size]:
            assert isinstance(value, int)
            out += key.to_bytes(idn, "big") + value.to_bytes(size, "big")
    if wide:
        out += len(groups[0]).to_bytes(2, "big")
        for key, value in groups[0]:
            assert isinstance(value, bytes)
            out += key.to_bytes(2, "big") + len(value).to_bytes(2, "big") + value
    elif groups[0]:
        raise ValueError("Codec 8 has no variable-length IO values")
    return out


def packet(records: list[Record], codec: int = CODEC_8) -> bytes:
    data = bytes([codec, len(records)]) + b"".join(encode_record(r, codec) for r in records)
    data += bytes([len(records)])
    return b"\x00\x00\x00\x00" + len(data).to_bytes(4, "big") + data + crc16_ibm(data).to_bytes(4, "big")


def imei_packet(imei: str) -> bytes:
    raw = imei.encode()
    return len(raw).to_bytes(2, "big") + raw


# ---- the stream ----------------------------------------------------------------------------------------


@dataclass
class Event:
    """What the stream yielded: a handshake (imei or a refusal), or a packet (records, or why it was parked)."""

    kind: str  # "imei", "bad_imei", "packet", "parked"
    imei: str | None = None
    records: list[Record] = field(default_factory=list)
    parked: Parked | None = None


@dataclass
class Stream:
    """Cuts a Teltonika TCP byte stream into the handshake and AVL packets; never raises on device bytes."""

    imei: str | None = None
    buffer: bytearray = field(default_factory=bytearray)
    closed: bool = False

    def feed(self, data: bytes) -> list[Event]:
        self.buffer += data
        out: list[Event] = []
        buf = self.buffer
        while not self.closed:
            if self.imei is None:
                if len(buf) < 2:
                    break
                n = int.from_bytes(buf[:2], "big")
                if n == 0 or n > MAX_IMEI_LEN:
                    out.append(self._refuse(f"IMEI length {n} is not 1-{MAX_IMEI_LEN}"))
                    break
                if len(buf) < 2 + n:
                    break
                raw = bytes(buf[2 : 2 + n])
                del buf[: 2 + n]
                text = raw.decode("ascii", errors="replace")
                if not (text.isascii() and text.isdigit() and 8 <= len(text) <= MAX_IMEI_LEN):
                    out.append(self._refuse("the IMEI is not 8-20 digits", raw))
                    break
                self.imei = text
                out.append(Event("imei", imei=text))
                continue
            if len(buf) < 8:
                break
            if bytes(buf[:4]) != b"\x00\x00\x00\x00":
                nxt = buf.find(b"\x00\x00\x00\x00", 1)
                cut = nxt if nxt > 0 else max(1, len(buf) - 3)
                out.append(Event("parked", parked=Parked("no_preamble", "bytes outside any AVL packet",
                                                          bytes(buf[:cut][:32]).hex())))  # fmt: skip
                del buf[:cut]
                continue
            length = int.from_bytes(buf[4:8], "big")
            if length < 3 or length > MAX_PACKET:
                out.append(self._refuse(f"AVL data length {length} is not 3-{MAX_PACKET}", bytes(buf[:16])))
                break
            if len(buf) < 12 + length:
                break
            raw = bytes(buf[: 12 + length])
            del buf[: 12 + length]
            data = raw[8 : 8 + length]
            crc = int.from_bytes(raw[8 + length :], "big")
            if crc16_ibm(data) != crc:
                out.append(Event("parked", parked=Parked("bad_crc", "AVL packet checksum does not match",
                                                          raw[:64].hex())))  # fmt: skip
                continue
            try:
                records = decode_data(data)
            except ValueError as exc:
                out.append(Event("parked", parked=Parked("malformed", str(exc)[:200], raw[:64].hex())))
                continue
            out.append(Event("packet", records=records))
        if len(buf) > MAX_PACKET + 12:  # never reached by framing rules above; a bound all the same
            buf.clear()
        return out

    def _refuse(self, reason: str, raw: bytes = b"") -> Event:
        self.closed = True
        self.buffer.clear()
        return Event("bad_imei" if self.imei is None else "parked",
                     parked=Parked("bad_handshake" if self.imei is None else "oversized", reason,
                                   raw[:32].hex()))  # fmt: skip
