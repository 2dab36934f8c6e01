"""Reading a world's files for replay without losing good data to bad: every line or file that cannot be used
is kept as a rejection (source file, line number, reason, the raw text truncated) and reading goes on.

JSON Lines telemetry goes through the wire contract (`openem.telemetry.wire.parse_message`), as live ingest
does: a truncated line, a line that is not an object, an oversized line, a future-dated message or an
out-of-range coordinate is rejected with the wire's reason code, never dropped silently.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from openem.core.time import parse_instant
from openem.telemetry.wire import MAX_MESSAGE_BYTES, Message, parse_message

RAW_KEEP = 512  # characters of a rejected line kept in the rejections file


@dataclass
class Rejections:
    """What replay read and what it could not use."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    read: int = 0  # telemetry lines (or Parquet rows) read, good and bad

    def add(self, source: str, line: int | None, reason: str, detail: str, raw: str = "") -> None:
        self.rows.append(
            {"source": source, "line": line, "reason": reason, "detail": detail, "raw": raw[:RAW_KEEP]}
        )

    def by_reason(self) -> Counter[str]:
        return Counter(r["reason"] for r in self.rows)

    def write(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            for row in self.rows:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def lines(path: str) -> list[tuple[int, str]]:
    """(line number, text) of a text file's non-blank lines, read as UTF-8 (undecodable bytes replaced)."""
    out = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, text in enumerate(fh, start=1):
            if text.strip():
                out.append((number, text))
    return out


def decode(path: str, number: int, text: str, rejected: Rejections) -> Any | None:
    """A line's JSON object, or None (rejected: oversized, unreadable or not an object)."""
    if len(text.encode("utf-8")) > MAX_MESSAGE_BYTES + 1:  # the wire's limit (plus the newline)
        rejected.add(path, number, "oversized", f"a line may not exceed {MAX_MESSAGE_BYTES} bytes", text)
        return None
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        rejected.add(path, number, "unreadable_json", "not a complete JSON value (truncated?)", text)
        return None
    if not isinstance(obj, dict):
        rejected.add(path, number, "not_object", "a line must be a JSON object", text)
        return None
    return obj


def telemetry_jsonl(path: str, rejected: Rejections) -> list[Message]:
    """The wire messages of a telemetry JSON Lines file (`openem sim generate --jsonl`), each validated as live
    ingest would at its recorded `receive_time`."""
    out = []
    found = lines(path)
    rejected.read += len(found)
    for number, text in found:
        obj = decode(path, number, text, rejected)
        if obj is None:
            continue
        try:
            received = parse_instant(obj.get("receive_time"))
        except (ValueError, TypeError, OverflowError):
            rejected.add(path, number, "bad_receive_time", "'receive_time' must be an ISO 8601 instant", text)
            continue
        msg, rejection = parse_message(obj, received)
        if msg is None:
            code, reason = (rejection.code, rejection.reason) if rejection else ("malformed", "not a message")
            rejected.add(path, number, code, reason, text)
            continue
        out.append(msg)
    return out


def orders_jsonl(path: str, rejected: Rejections) -> list[dict[str, Any]]:
    """The order documents of orders.jsonl; an unreadable line is rejected (an order the engine cannot use is
    quarantined by the engine, with an `order_unusable` alert)."""
    out = []
    for number, text in lines(path):
        try:
            obj = json.loads(text)
        except (ValueError, RecursionError):
            rejected.add(path, number, "unreadable_json", "not a complete JSON value (truncated?)", text)
            continue
        if isinstance(obj, dict):
            out.append(obj)
        else:
            rejected.add(path, number, "not_object", "an order must be a JSON object", text)
    return out
