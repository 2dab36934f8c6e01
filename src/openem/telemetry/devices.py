"""Real device protocols, decoded into wire-format objects (docs/telemetry.md v1) for `parse_batch`.

GT06 (binary over TCP, the Concox/GT06 family Traccar's decoders handle): a frame is
0x78 0x78 | length | protocol | content | serial (2) | CRC-ITU (2) | 0x0D 0x0A, where `length` counts
protocol..CRC and the CRC (CRC-16/X.25) covers length..serial. Login (0x01) carries the IMEI as 8 BCD
bytes; location (0x12, 0x22) carries date-time (YY MM DD hh mm ss, UTC), a GPS byte (satellites in the low
nibble), latitude and longitude (unsigned, degrees x 1,800,000), speed (km/h) and a course/status word
(course in bits 0-9, bit 10 set = north, bit 11 set = west, bit 12 = fix valid); heartbeat is 0x13.
Those facts come from the public protocol description and Traccar's decoder; this code is our own.

OsmAnd (HTTP, what Traccar's phone apps send): the query or form parameters and the newer JSON body, as
`osmand` and `osmand_json` describe (www.traccar.org/osmand/ lists them).

Nothing here raises on device input: a frame that cannot be read becomes a `Parked` record (hex kept),
and the splitter resynchronises on the next start marker, so one bad frame never stops the rest.
"""

from __future__ import annotations

import math
import re
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


def _num(value: Any) -> float:
    """A finite number from a query value or JSON number (bool and NaN refused)."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    out = float(value)
    if not math.isfinite(out):
        raise ValueError("not a finite number")
    return out


_LOCAL_TIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_EPOCH = re.compile(r"^\d{1,16}(\.\d{1,6})?$")


def osmand_time(value: Any) -> datetime:
    """Unix seconds, Unix milliseconds (over 10^11), ISO 8601 with a zone, or `yyyy-MM-dd HH:mm:ss` (UTC)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = repr(value)
    if not isinstance(value, str):
        raise ValueError("timestamp must be text or a number")
    text = value.strip()
    if _EPOCH.match(text):
        secs = float(text)
        return datetime.fromtimestamp(secs / 1000 if secs > 1e11 else secs, tz=UTC)
    if _LOCAL_TIME.match(text):
        return datetime.strptime(text, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    return parse_instant(text)


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _position_objs(device_id: str, t: datetime, pos: dict[str, Any] | None, battery: tuple[float, bool] | None,
                   ) -> list[dict[str, Any]]:  # fmt: skip
    """A phone's report as wire objects: a gps fix (seq = ms x 4) and its battery (ms x 4 + 1)."""
    ms = int(t.timestamp() * 1000)
    base = {"v": 1, "device_id": device_id, "device_time": iso(t)}
    out: list[dict[str, Any]] = []
    if pos is not None:
        out.append({**base, "seq": ms * 4, "type": "gps", "payload": pos})
    if battery is not None:
        out.append({**base, "seq": ms * 4 + 1, "type": "battery",
                    "payload": {"level_pct": battery[0], "charging": battery[1]}})  # fmt: skip
    return out


def osmand(params: Mapping[str, str], received_at: datetime) -> tuple[list[dict[str, Any]], Parked | None]:
    """An OsmAnd / Traccar Client query (GET or form POST) to wire objects; the wire parser then validates
    ranges and times like any other message. Parameters: id or deviceid; timestamp (see `osmand_time`; absent:
    the receipt time); lat and lon, or location=lat,lon; speed (knots); bearing or heading; accuracy (m); hdop;
    batt (%); charge; valid (false: the fix is not used, the battery is); altitude, cell and wifi are read but not
    kept (the wire format has no field for them, and a cell or Wi-Fi list is not a position)."""
    raw = "&".join(f"{k}={v}" for k, v in list(params.items())[:20])[:512]
    try:
        device_id = params.get("id") or params.get("deviceid")
        if not device_id:
            return [], Parked("missing_field", "OsmAnd query needs 'id'", raw)
        ts = params.get("timestamp")
        t = received_at if ts is None or ts == "" else osmand_time(ts)
        if "location" in params and "lat" not in params:
            la, _, lo = params["location"].partition(",")
            lat_s: str | None = la
            lon_s: str | None = lo
        else:
            lat_s, lon_s = params.get("lat"), params.get("lon")
        battery = None
        if params.get("batt") not in (None, ""):
            battery = (_num(params["batt"]), _truthy(params.get("charge", "false")))
        pos: dict[str, Any] | None = None
        parked = None
        if lat_s is None or lon_s is None:
            if battery is None:
                return [], Parked("missing_field", "OsmAnd query needs 'lat' and 'lon' (or 'location')", raw)
        elif "valid" in params and not _truthy(params["valid"]):
            parked = Parked("invalid_fix", "the phone marked this position as not valid", raw)
        else:
            pos = {"lat": _num(lat_s), "lon": _num(lon_s), "source": "GPS"}
            hdop = _num(params["hdop"]) if params.get("hdop") not in (None, "") else None
            if params.get("accuracy") not in (None, ""):
                pos["accuracy_m"] = _num(params["accuracy"])
            else:
                pos["accuracy_m"] = round(hdop * 5, 1) if hdop is not None else 50.0
            if hdop is not None:
                pos["hdop"] = hdop
            if params.get("speed") not in (None, ""):
                pos["speed_mps"] = round(_num(params["speed"]) * _KNOT_TO_MPS, 2)
            heading = params.get("bearing") or params.get("heading")
            if heading not in (None, ""):
                pos["heading_deg"] = _num(heading)
        return _position_objs(device_id, t, pos, battery), parked
    except (KeyError, ValueError, TypeError, OverflowError, OSError) as exc:
        return [], Parked("malformed", f"could not read the OsmAnd query ({type(exc).__name__})", raw)


MAX_JSON_LOCATIONS = 100


def osmand_json(body: Any, received_at: datetime) -> tuple[str | None, list[dict[str, Any]], list[Parked]]:
    """The JSON body of newer Traccar Client versions: `device_id`, `location` (one object or a list) with
    `timestamp` (ISO 8601), `coords` (latitude, longitude, accuracy, speed in m/s, heading, altitude; a negative
    speed or heading means unknown), `battery` (`level` 0-1, `is_charging`), `is_moving`, `event` (the last
    two, and altitude, are not kept). Returns (device id, wire objects, parked)."""
    raw = _json_raw(body)
    if not isinstance(body, dict):
        return None, [], [Parked("not_object", "the body must be a JSON object", raw)]
    device_id = body.get("device_id")
    if not isinstance(device_id, str) or not device_id:
        return None, [], [Parked("missing_field", "the body needs 'device_id'", raw)]
    locations = body.get("location")
    items = locations[:MAX_JSON_LOCATIONS] if isinstance(locations, list) else [locations]
    objs: list[dict[str, Any]] = []
    parked: list[Parked] = []
    for loc in items:
        try:
            if not isinstance(loc, dict):
                raise TypeError("'location' must be an object")
            t = osmand_time(loc["timestamp"]) if loc.get("timestamp") is not None else received_at
            coords = loc.get("coords")
            pos = None
            if isinstance(coords, dict):
                pos = {"lat": _num(coords["latitude"]), "lon": _num(coords["longitude"]), "source": "GPS",
                       "accuracy_m": _num(coords["accuracy"]) if coords.get("accuracy") is not None else 50.0}  # fmt: skip
                if coords.get("speed") is not None and _num(coords["speed"]) >= 0:
                    pos["speed_mps"] = round(_num(coords["speed"]), 2)
                if coords.get("heading") is not None and _num(coords["heading"]) >= 0:
                    pos["heading_deg"] = _num(coords["heading"])
            batt = loc.get("battery", body.get("battery"))
            battery = None
            if isinstance(batt, dict) and batt.get("level") is not None and _num(batt["level"]) >= 0:
                battery = (round(_num(batt["level"]) * 100, 1), _truthy(batt.get("is_charging", False)))
            if pos is None and battery is None:
                raise KeyError("coords")
            objs.extend(_position_objs(device_id, t, pos, battery))
        except (KeyError, ValueError, TypeError, OverflowError, OSError) as exc:
            parked.append(
                Parked("malformed", f"could not read the location ({type(exc).__name__})", _json_raw(loc))
            )
    return device_id, objs, parked


def _json_raw(obj: Any) -> str:
    import json

    try:
        return json.dumps(obj, default=str)[:512]
    except (TypeError, ValueError, RecursionError):
        try:
            return repr(obj)[:512]
        except RecursionError:
            return "(nested too deeply to show)"
