"""Real device protocols, decoded into wire-format objects (docs/telemetry.md v1) for `parse_batch`.

GT06 (binary over TCP, the Concox/GT06 family Traccar's decoders handle): a frame is
0x78 0x78 | length | protocol | content | serial (2) | CRC-ITU (2) | 0x0D 0x0A, where `length` counts
protocol..CRC and the CRC (CRC-16/X.25) covers length..serial. Login (0x01) carries the IMEI as 8 BCD
bytes; location (0x12, 0x22) carries date-time (YY MM DD hh mm ss, UTC), a GPS byte (satellites in the low
nibble), latitude and longitude (unsigned, degrees x 1,800,000), speed (km/h) and a course/status word
(course in bits 0-9, bit 10 set = north, bit 11 set = west, bit 12 = fix valid); heartbeat is 0x13.
Those facts come from the public protocol description and Traccar's decoder; this code is our own.

OsmAnd (HTTP query, what Traccar's phone apps send): id, lat, lon, timestamp (epoch seconds or ISO),
speed (knots), bearing, accuracy (m), batt (%).

Nothing here raises on device input: a frame that cannot be read becomes a `Parked` record (hex kept),
and the splitter resynchronises on the next start marker, so one bad frame never stops the rest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from openem.core.time import iso, parse_instant

START = b"\x78\x78"
STOP = b"\x0d\x0a"
MAX_BUFFER = 64 * 1024  # an unframed stream longer than this is dropped (parked) rather than held
_KMH_TO_MPS = 1 / 3.6
_KNOT_TO_MPS = 0.514444


def crc_itu(data: bytes) -> int:
    """CRC-16/X.25 (reflected 0x8408, init 0xFFFF, final xor 0xFFFF), as GT06 frames carry."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8408 if crc & 1 else crc >> 1
    return crc ^ 0xFFFF


@dataclass(frozen=True, slots=True)
class Parked:
    """An unreadable frame kept for people to see: why, and the bytes (hex, bounded)."""

    code: str
    reason: str
    raw_hex: str

    def to_wire_rejection(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "raw": self.raw_hex}


@dataclass
class Frame:
    protocol: int
    content: bytes
    serial: int


def frame(protocol: int, content: bytes, serial: int) -> bytes:
    """Encode one GT06 frame (used by the simulator and for acknowledgements)."""
    body = bytes([len(content) + 5, protocol]) + content + serial.to_bytes(2, "big")
    return START + body + crc_itu(body).to_bytes(2, "big") + STOP


def ack(protocol: int, serial: int) -> bytes:
    """The server's reply to a login or heartbeat: same protocol and serial, no content."""
    return frame(protocol, b"", serial)


@dataclass
class Splitter:
    """Cuts a TCP byte stream into GT06 frames; bad bytes are parked, never fatal."""

    buffer: bytearray = field(default_factory=bytearray)

    def feed(self, data: bytes) -> tuple[list[Frame], list[Parked]]:
        self.buffer += data
        frames: list[Frame] = []
        parked: list[Parked] = []
        buf = self.buffer
        while True:
            start = buf.find(START)
            if start < 0:
                if len(buf) > 1:
                    keep = buf[-1:] if buf[-1:] == START[:1] else b""
                    if len(buf) - len(keep) > 0:
                        parked.append(Parked("no_frame_start", "bytes outside any frame", buf[:32].hex()))
                    del buf[: len(buf) - len(keep)]
                break
            if start > 0:
                parked.append(
                    Parked("no_frame_start", "bytes outside any frame", bytes(buf[:start][:32]).hex())
                )
                del buf[:start]
            if len(buf) < 3:
                break
            length = buf[2]
            total = 2 + 1 + length + 2
            if length < 5:
                parked.append(
                    Parked("bad_length", f"frame length {length} is too short", bytes(buf[:8]).hex())
                )
                del buf[:2]
                continue
            if len(buf) < total:
                break
            raw = bytes(buf[:total])
            body = raw[2 : 2 + 1 + length - 2]
            crc = int.from_bytes(raw[total - 4 : total - 2], "big")
            if raw[-2:] != STOP:
                parked.append(Parked("bad_stop", "frame does not end with 0D 0A", raw[:64].hex()))
                del buf[:2]
                continue
            if crc_itu(body) != crc:
                parked.append(Parked("bad_crc", "frame checksum does not match", raw[:64].hex()))
                del buf[:total]
                continue
            frames.append(Frame(body[1], body[2:-2], int.from_bytes(body[-2:], "big")))
            del buf[:total]
        if len(buf) > MAX_BUFFER:
            parked.append(
                Parked("oversized", f"more than {MAX_BUFFER} bytes without a frame", bytes(buf[:32]).hex())
            )
            buf.clear()
        return frames, parked


def imei_of(content: bytes) -> str | None:
    """Login content: IMEI as 8 BCD bytes (a leading 0 nibble); None when not 15-16 decimal digits."""
    if len(content) < 8:
        return None
    digits = content[:8].hex()
    if not digits.isdigit():
        return None
    return digits.lstrip("0") or "0"


def _seq(device_time: datetime, serial: int) -> int:
    """Device serials are 16 bits and wrap; (seconds since epoch, serial) keeps (device, seq) unique."""
    return int(device_time.timestamp()) * 65536 + serial


def decode(
    fr: Frame, device_id: str | None, received_at: datetime
) -> tuple[dict[str, Any] | None, Parked | None]:
    """One GT06 frame to a wire object (or None for login/unknown types that carry no message)."""
    try:
        return _decode(fr, device_id, received_at)
    except Exception as exc:  # noqa: BLE001 - hostile input must never crash ingest
        return None, Parked(
            "malformed", f"could not read the frame ({type(exc).__name__})", fr.content[:64].hex()
        )


def _decode(
    fr: Frame, device_id: str | None, received_at: datetime
) -> tuple[dict[str, Any] | None, Parked | None]:
    if fr.protocol == 0x01:
        return None, None
    if device_id is None:
        return None, Parked(
            "not_logged_in", "a frame arrived before the device logged in", fr.content[:64].hex()
        )
    if fr.protocol == 0x13:
        t = received_at
        return {"v": 1, "device_id": device_id, "seq": _seq(t, fr.serial), "type": "heartbeat",
                "device_time": iso(t), "payload": {}}, None  # fmt: skip
    if fr.protocol in (0x12, 0x22):
        c = fr.content
        if len(c) < 18:
            return None, Parked("short_location", f"location content is {len(c)} bytes (needs 18)", c.hex())
        yy, mo, dd, hh, mi, ss = c[0:6]
        t = datetime(2000 + yy, mo, dd, hh, mi, ss, tzinfo=UTC)
        lat = int.from_bytes(c[7:11], "big") / 1_800_000
        lon = int.from_bytes(c[11:15], "big") / 1_800_000
        speed_kmh = c[15]
        flags = int.from_bytes(c[16:18], "big")
        if not flags & 0x0400:
            lat = -lat
        if flags & 0x0800:
            lon = -lon
        sats = c[6] & 0x0F
        valid = bool(flags & 0x1000)
        payload = {
            "lat": lat,
            "lon": lon,
            "accuracy_m": 10.0 if valid and sats >= 4 else 100.0,
            "speed_mps": round(speed_kmh * _KMH_TO_MPS, 2),
            "heading_deg": float(flags & 0x03FF) % 360,
            "source": "GPS",
        }
        return {"v": 1, "device_id": device_id, "seq": _seq(t, fr.serial), "type": "gps",
                "device_time": iso(t), "payload": payload}, None  # fmt: skip
    return None, Parked(
        "unknown_protocol", f"GT06 protocol 0x{fr.protocol:02x} is not decoded", fr.content[:64].hex()
    )


def location_frame(
    t: datetime, lat: float, lon: float, serial: int, speed_kmh: int = 0, course: int = 0
) -> bytes:
    """Simulator: a GT06 location frame as a tracker would send it."""
    flags = (course & 0x03FF) | 0x1000 | (0x0400 if lat >= 0 else 0) | (0x0800 if lon < 0 else 0)
    content = (
        bytes([t.year - 2000, t.month, t.day, t.hour, t.minute, t.second, 0xC8])
        + round(abs(lat) * 1_800_000).to_bytes(4, "big")
        + round(abs(lon) * 1_800_000).to_bytes(4, "big")
        + bytes([speed_kmh & 0xFF])
        + flags.to_bytes(2, "big")
    )
    return frame(0x12, content, serial)


def login_frame(imei: str, serial: int = 1) -> bytes:
    return frame(0x01, bytes.fromhex(imei.rjust(16, "0")), serial)


def osmand(params: Mapping[str, str], received_at: datetime) -> tuple[dict[str, Any] | None, Parked | None]:
    """An OsmAnd/Traccar Client HTTP query to a wire gps object; the wire parser then validates ranges."""
    raw = "&".join(f"{k}={v}" for k, v in list(params.items())[:20])[:512]
    try:
        device_id = params.get("id") or params.get("deviceid")
        if not device_id:
            return None, Parked("missing_field", "OsmAnd query needs 'id'", raw)
        ts = params.get("timestamp")
        if ts is None:
            t = received_at
        elif ts.replace(".", "", 1).isdigit():
            secs = float(ts)
            t = datetime.fromtimestamp(secs / 1000 if secs > 1e11 else secs, tz=UTC)
        else:
            t = parse_instant(ts)
        payload: dict[str, Any] = {
            "lat": float(params["lat"]),
            "lon": float(params["lon"]),
            "accuracy_m": float(params.get("accuracy", "50")),
            "source": "GPS",
        }
        if "speed" in params:
            payload["speed_mps"] = round(float(params["speed"]) * _KNOT_TO_MPS, 2)
        if "bearing" in params:
            payload["heading_deg"] = float(params["bearing"])
        seq = int(params["seq"]) if "seq" in params else int(t.timestamp() * 1000)
        return {"v": 1, "device_id": device_id, "seq": seq, "type": "gps", "device_time": iso(t),
                "payload": payload}, None  # fmt: skip
    except (KeyError, ValueError, TypeError, OverflowError) as exc:
        return None, Parked("malformed", f"could not read the OsmAnd query ({type(exc).__name__})", raw)
