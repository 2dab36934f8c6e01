"""Wire messages (docs/telemetry.md, version 1): parse, validate, flag, and convert to/from the columnar form.

Parsing never raises on device input. A message that breaks the contract (missing field, wrong type,
coordinates out of range, dated more than 5 minutes in the future, unknown type, oversized) comes back as a
`Rejection` with a stable `code` and a plain-English `reason`; the caller still stores it as received.
A valid message may carry `flags` (for example `duplicate_in_batch`, `outside_england_wales`).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from openem.core.geo import in_england_wales_bbox
from openem.core.time import iso, parse_instant

WIRE_VERSION = 1
MAX_MESSAGE_BYTES = 8 * 1024
MAX_BATCH_BYTES = 8 * 1024 * 1024
MAX_BATCH_MESSAGES = 50_000
FUTURE_TOLERANCE = timedelta(minutes=5)
_RAW_KEEP = 512  # characters of a rejected fragment kept in the rejection (the store keeps the whole batch)

DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# field -> (kind, required, low, high); kinds: num, bool, str, enum:<a|b>
_NUM, _BOOL, _STR = "num", "bool", "str"
PAYLOADS: dict[str, dict[str, tuple[str, bool, float | None, float | None]]] = {
    "gps": {
        "lat": (_NUM, True, -90.0, 90.0),
        "lon": (_NUM, True, -180.0, 180.0),
        "accuracy_m": (_NUM, True, 0.0, 100_000.0),
        "hdop": (_NUM, False, 0.0, 100.0),
        "speed_mps": (_NUM, False, 0.0, 1_000.0),
        "heading_deg": (_NUM, False, 0.0, 360.0),
        "source": ("enum:GPS|LBS|WIFI", True, None, None),
    },
    "rf": {
        "present": (_BOOL, True, None, None),
        "rssi_dbm": (_NUM, False, -200.0, 50.0),
        "tag_id": (_STR, False, None, None),
    },
    "alcohol": {
        "tac_gdl": (_NUM, True, 0.0, 1.0),
        "ir_skin": (_NUM, True, 0.0, 1.0),
        "temp_c": (_NUM, True, -40.0, 80.0),
    },
    "battery": {"level_pct": (_NUM, True, 0.0, 100.0), "charging": (_BOOL, True, None, None)},
    "tamper": {
        "kind": ("enum:strap|case", True, None, None),
        "state": ("enum:open|closed", True, None, None),
    },
    "checkin": {
        "result": ("enum:pass|fail|missed", True, None, None),
        "lat": (_NUM, False, -90.0, 90.0),
        "lon": (_NUM, False, -180.0, 180.0),
        "accuracy_m": (_NUM, False, 0.0, 100_000.0),
    },
    "hmu_power": {"mains": (_BOOL, True, None, None)},
    "hmu_moved": {"moved": (_BOOL, True, None, None)},
    "heartbeat": {},
    # a tag's motion sensor: moving or still, with an optional step count (since the last report) or
    # accelerometer magnitude; it lets a tag say "moving, no GPS fix" (issue 11)
    "motion": {
        "moving": (_BOOL, True, None, None),
        "steps": (_NUM, False, 0.0, 1_000_000.0),
        "accel_mps2": (_NUM, False, 0.0, 1_000.0),
    },
}
MESSAGE_TYPES = tuple(PAYLOADS)

# Columnar form: payload field -> column name (tamper kind/state are prefixed to stay unambiguous).
_COLUMN_OF = {("tamper", "kind"): "tamper_kind", ("tamper", "state"): "tamper_state"}
FLOAT_COLUMNS = ("lat", "lon", "accuracy_m", "hdop", "speed_mps", "heading_deg", "rssi_dbm", "tac_gdl",
                 "ir_skin", "temp_c", "level_pct", "steps", "accel_mps2")  # fmt: skip
BOOL_COLUMNS = ("present", "charging", "mains", "moved", "moving")
STRING_COLUMNS = ("source", "tag_id", "tamper_kind", "tamper_state", "result")


@dataclass(frozen=True, slots=True)
class Message:
    """A valid wire message. Times are aware UTC datetimes; `payload` keeps only the known fields."""

    device_id: str
    seq: int
    type: str
    device_time: datetime
    receive_time: datetime
    payload: dict[str, Any]
    flags: tuple[str, ...] = ()

    @property
    def message_id(self) -> tuple[str, int]:
        return (self.device_id, self.seq)

    def to_wire(self) -> dict[str, Any]:
        return {
            "v": WIRE_VERSION,
            "device_id": self.device_id,
            "seq": self.seq,
            "type": self.type,
            "device_time": iso(self.device_time),
            "receive_time": iso(self.receive_time),
            "payload": dict(self.payload),
        }


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message that breaks the contract: stored as received, never processed by the rules."""

    code: str
    reason: str
    device_id: str | None = None
    seq: int | None = None
    raw: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"code": self.code, "reason": self.reason, "device_id": self.device_id, "seq": self.seq,
                "raw": self.raw}  # fmt: skip


@dataclass
class BatchResult:
    messages: list[Message] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)


def _is_num(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _raw(obj: Any) -> str:
    try:
        text = obj if isinstance(obj, str) else json.dumps(obj, default=str, ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        text = repr(obj)
    return text[:_RAW_KEEP]


def _spec(kind: str) -> tuple[tuple[str, str, bool, float | None, float | None, tuple[str, ...]], ...]:
    """A payload's fields with each enum's allowed values split once, not for every message."""
    return tuple((name, ftype, required, low, high, tuple(ftype.split(":", 1)[1].split("|")) if ftype.startswith("enum:") else ())
                 for name, (ftype, required, low, high) in PAYLOADS[kind].items())  # fmt: skip


_SPECS = {kind: _spec(kind) for kind in PAYLOADS}


def _check_payload(kind: str, payload: dict[str, Any]) -> tuple[dict[str, Any], str | None, str | None]:
    """Validate a payload against its spec: (clean payload, error code, reason)."""
    clean: dict[str, Any] = {}
    for name, ftype, required, low, high, allowed in _SPECS[kind]:
        value = payload.get(name)
        if value is None:
            if required:
                return clean, "missing_field", f"{kind} payload needs '{name}'"
            continue
        if ftype == _NUM:
            if not (type(value) is float and math.isfinite(value)) and not _is_num(value):
                return clean, "wrong_type", f"'{name}' must be a finite number"
            if (low is not None and value < low) or (high is not None and value > high):
                return clean, "out_of_range", f"'{name}' = {value} is outside {low}..{high}"
            value = float(value)
        elif ftype == _BOOL:
            if not isinstance(value, bool):
                return clean, "wrong_type", f"'{name}' must be true or false"
        elif ftype == _STR:
            if not isinstance(value, str) or len(value) > 128:
                return clean, "wrong_type", f"'{name}' must be a string of at most 128 characters"
        elif value not in allowed:
            return clean, "out_of_range", f"'{name}' must be one of {', '.join(allowed)}"
        clean[name] = value
    if ("lat" in clean) != ("lon" in clean):
        return clean, "missing_field", "'lat' and 'lon' come together"
    return clean, None, None


def parse_message(obj: Any, received_at: datetime) -> tuple[Message | None, Rejection | None]:
    """Validate one decoded wire object; `received_at` (aware UTC) becomes `receive_time`.

    Returns exactly one of (message, None) or (None, rejection). Never raises.
    """
    try:
        return _parse(obj, received_at)
    except Exception as exc:  # noqa: BLE001 - hostile input must never crash ingest
        return None, Rejection(
            "malformed", f"could not read the message ({type(exc).__name__})", raw=_raw(obj)
        )


def _parse(obj: Any, received_at: datetime) -> tuple[Message | None, Rejection | None]:
    if not isinstance(obj, dict):
        return None, Rejection("not_object", "a message must be a JSON object", raw=_raw(obj))
    device_id = obj.get("device_id")
    seq = obj.get("seq")
    did = device_id if isinstance(device_id, str) and DEVICE_ID_RE.match(device_id) else None
    sq = seq if isinstance(seq, int) and not isinstance(seq, bool) and 0 <= seq < 2**63 else None

    def reject(code: str, reason: str) -> tuple[None, Rejection]:
        return None, Rejection(code, reason, did, sq, _raw(obj))

    if obj.get("v", WIRE_VERSION) != WIRE_VERSION:
        return reject(
            "unsupported_version", f"wire-format version {obj.get('v')!r} is not supported (expected 1)"
        )
    if did is None:
        return reject("bad_device_id", "'device_id' must be 1-64 characters of letters, digits, '_' or '-'")
    if sq is None:
        return reject("bad_seq", "'seq' must be an integer >= 0")
    kind = obj.get("type")
    if not isinstance(kind, str) or kind not in PAYLOADS:
        return reject("unknown_type", f"unknown message type {kind!r}")
    try:
        device_time = parse_instant(obj.get("device_time"))  # type: ignore[arg-type]
    except (ValueError, TypeError, OverflowError):
        return reject("bad_device_time", "'device_time' must be an ISO 8601 instant with a zone (…Z)")
    if device_time - received_at > FUTURE_TOLERANCE:
        return reject(
            "future_dated", f"'device_time' {iso(device_time)} is more than 5 minutes after receipt"
        )
    payload = obj.get("payload", {})
    if not isinstance(payload, dict):
        return reject("wrong_type", "'payload' must be an object")
    clean, code, reason = _check_payload(kind, payload)
    if code is not None:
        return reject(code, reason or code)
    flags: list[str] = []
    if "lat" in clean and not in_england_wales_bbox(clean["lon"], clean["lat"]):
        flags.append("outside_england_wales")
    if "receive_time" in obj:
        flags.append("receive_time_ignored")
    return Message(did, sq, kind, device_time, received_at, clean, tuple(flags)), None


_DIGITS_TO_ZERO = bytes.maketrans(b"123456789", b"000000000")


def _orjson_whole(text: str, raw: bytes | None = None) -> Any:
    """orjson for the common case (a well-formed batch, read from its bytes); anything it refuses that the
    standard library might read (NaN, lone surrogates, invalid UTF-8, very deep nesting) goes the standard way,
    and so does a batch with a run of 20 digits (orjson reads an integer over 64 bits as a float, json as an
    integer), so the messages and rejections are exactly those of `json`
    (tests/unit/telemetry/test_fast_parse_same.py)."""
    data = raw if raw is not None else text.encode("utf-8", "surrogatepass")
    if data.translate(_DIGITS_TO_ZERO).find(b"0" * 20) >= 0:
        return json.loads(text)
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(text)


def _json_whole(text: str, raw: bytes | None = None) -> Any:
    return json.loads(text)


_WHOLE: dict[str, Callable[[str, bytes | None], Any]] = {"json": _json_whole, "orjson": _orjson_whole}
CODECS = tuple(_WHOLE)


def _decode_items(
    text: str, codec: str = "orjson", raw: bytes | None = None
) -> tuple[list[Any], list[Rejection]]:
    """Split a batch (JSON array, JSON Lines, or a single object) into decoded items, salvaging what it can."""
    stripped = text.strip()
    if not stripped:
        return [], [Rejection("empty", "the batch is empty")]
    try:
        whole = _WHOLE[codec](stripped, raw)
        return (whole if isinstance(whole, list) else [whole]), []
    except (ValueError, RecursionError):
        pass
    items: list[Any] = []
    rejections: list[Rejection] = []
    decoder = json.JSONDecoder()
    pos = 1 if stripped.startswith("[") else 0
    end = len(stripped)
    while pos < end:
        while pos < end and stripped[pos] in " \t\r\n,":
            pos += 1
        if pos >= end or stripped[pos] == "]":
            break
        try:
            item, pos = decoder.raw_decode(stripped, pos)
            items.append(item)
        except (ValueError, RecursionError):
            # Skip to the next line or the next object start; report the unreadable fragment.
            nxt = min(
                (i for i in (stripped.find("\n", pos + 1), stripped.find("{", pos + 1)) if i != -1),
                default=end,
            )
            fragment = stripped[pos:nxt]
            code = "truncated" if nxt == end else "malformed_json"
            rejections.append(Rejection(code, "unreadable JSON: " + ("truncated at the end of the batch"
                                        if code == "truncated" else "not a JSON value"), raw=fragment[:_RAW_KEEP]))  # fmt: skip
            pos = nxt
    return items, rejections


def parse_batch(
    raw: bytes | str, received_at: datetime | None = None, *, codec: str = "orjson"
) -> BatchResult:
    """Parse a batch body (JSON array or JSON Lines). Never raises; good messages always survive. `codec`
    "orjson" (the default) or "json" (the path before decision 0027's second slice) give the same result."""
    received_at = received_at or datetime.now(UTC)
    result = BatchResult()
    if isinstance(raw, bytes | bytearray):
        if len(raw) > MAX_BATCH_BYTES:
            result.rejections.append(Rejection("batch_too_large", f"the batch exceeds {MAX_BATCH_BYTES} bytes; send smaller batches"))  # fmt: skip
            return result
        raw_bytes: bytes | None = bytes(raw)
        text = bytes(raw).decode("utf-8", errors="replace")
    elif isinstance(raw, str):
        if len(raw) > MAX_BATCH_BYTES:
            result.rejections.append(Rejection("batch_too_large", f"the batch exceeds {MAX_BATCH_BYTES} bytes; send smaller batches"))  # fmt: skip
            return result
        text = raw
        raw_bytes = None
    else:
        result.rejections.append(Rejection("malformed", "the batch must be bytes or text"))
        return result
    items, result.rejections = _decode_items(text, codec, raw_bytes)
    too_big = _too_big_fast if codec == "orjson" else _too_big
    if len(items) > MAX_BATCH_MESSAGES:
        result.rejections.append(Rejection("too_many_messages", f"only the first {MAX_BATCH_MESSAGES} messages were read"))  # fmt: skip
        items = items[:MAX_BATCH_MESSAGES]
    seen: set[tuple[str, int]] = set()
    for item in items:
        if too_big(item):
            result.rejections.append(Rejection("oversized", f"a message may not exceed {MAX_MESSAGE_BYTES} bytes", raw=_raw(item)))  # fmt: skip
            continue
        msg, rej = parse_message(item, received_at)
        if rej is not None:
            result.rejections.append(rej)
        elif msg is not None:
            key = (msg.device_id, msg.seq)
            if key in seen:
                msg = Message(msg.device_id, msg.seq, msg.type, msg.device_time, msg.receive_time, msg.payload,
                              (*msg.flags, "duplicate_in_batch"))  # fmt: skip
            seen.add(key)
            result.messages.append(msg)
    return result


def _too_big(item: Any) -> bool:
    try:
        return len(json.dumps(item, separators=(",", ":"))) > MAX_MESSAGE_BYTES
    except (TypeError, ValueError, RecursionError):
        return True


def _too_big_fast(item: Any) -> bool:
    """`_too_big` without encoding every message twice: the standard encoding (ASCII escapes) is at most 3
    times orjson's UTF-8 length, so a message whose orjson form is under a third of the limit is within it;
    only the rest are measured the standard way."""
    try:
        if 3 * len(orjson.dumps(item)) + 64 < MAX_MESSAGE_BYTES:
            return False
    except (TypeError, orjson.JSONEncodeError):
        pass
    return _too_big(item)


# ---- columnar form -------------------------------------------------------------------------------------


def arrow_schema() -> Any:
    import pyarrow as pa

    ts = pa.timestamp("us", tz="UTC")
    fields = [("device_id", pa.string()), ("seq", pa.int64()), ("type", pa.string()), ("device_time", ts),
              ("receive_time", ts)]  # fmt: skip
    fields += [(c, pa.float64()) for c in FLOAT_COLUMNS[:6]]
    fields += [
        ("source", pa.string()),
        ("present", pa.bool_()),
        ("rssi_dbm", pa.float64()),
        ("tag_id", pa.string()),
    ]
    fields += [(c, pa.float64()) for c in ("tac_gdl", "ir_skin", "temp_c", "level_pct")]
    fields += [("charging", pa.bool_()), ("tamper_kind", pa.string()), ("tamper_state", pa.string()),
               ("result", pa.string()), ("mains", pa.bool_()), ("moved", pa.bool_())]  # fmt: skip
    fields += [("moving", pa.bool_()), ("steps", pa.float64()), ("accel_mps2", pa.float64())]  # motion
    return pa.schema(fields)


def messages_to_table(messages: list[Message]) -> Any:
    """Wire messages -> one wide pyarrow table (docs/telemetry.md, columnar form). Column by column: a
    payload field fills only its own column, a column no message has is all nulls (the engine's hot path
    converts every ingested batch, and a row-wise pass over all 33 columns was a third of the live path's CPU)."""
    import pyarrow as pa

    schema = arrow_schema()
    n = len(messages)
    cols: dict[str, list[Any]] = {
        "device_id": [m.device_id for m in messages],
        "seq": [m.seq for m in messages],
        "type": [m.type for m in messages],
        "device_time": [m.device_time for m in messages],
        "receive_time": [m.receive_time for m in messages],
    }
    for i, m in enumerate(messages):
        tamper = m.type == "tamper"
        for key, value in m.payload.items():
            name = _COLUMN_OF.get((m.type, key), key) if tamper else key
            col = cols.get(name)
            if col is None:
                col = cols[name] = [None] * n
            col[i] = value
    arrays = [
        pa.array(cols[f.name], type=f.type) if f.name in cols else pa.nulls(n, type=f.type) for f in schema
    ]
    return pa.Table.from_arrays(arrays, schema=schema)


def table_to_messages(table: Any) -> list[Message]:
    """Columnar rows -> wire messages (null columns dropped from payloads)."""
    rows = table.to_pylist()
    out: list[Message] = []
    for row in rows:
        kind = row["type"]
        payload: dict[str, Any] = {}
        for name in PAYLOADS.get(kind, {}):
            value = row.get(_COLUMN_OF.get((kind, name), name))
            if value is not None:
                payload[name] = value
        out.append(
            Message(row["device_id"], int(row["seq"]), kind, row["device_time"], row["receive_time"], payload)
        )
    return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema of a wire message (served at /api/schema/telemetry)."""
    from importlib.resources import files

    text = files("openem.telemetry").joinpath("schema/message.schema.json").read_text(encoding="utf-8")
    result: dict[str, Any] = json.loads(text)
    return result
