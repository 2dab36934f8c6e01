"""PostgreSQL's bulk write of a batch's messages and trail points by COPY (decisions 0027 and 0032, "Follow-up:
the PostgreSQL path profiled").

The common case, a batch none of whose messages is stored yet, is one COPY straight into `telemetry_messages`
and one into `trail_points`, inside a savepoint, from a text buffer built here (no per-row adaptation by the
driver). A batch with a message already stored (a gateway's resend) makes that COPY fail on the primary key:
the savepoint is rolled back and the batch goes the idempotent way, COPY into a transaction-local staging
table and one `INSERT ... SELECT ... ON CONFLICT DO NOTHING RETURNING`. Either way only the messages stored now
are reported, so "stored once, acknowledged after commit" does not depend on which way was taken.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from psycopg import errors

from openem.telemetry.wire import Message

MESSAGE_COLUMNS = ("device_id", "seq", "type", "device_time", "receive_time", "payload", "flags",
                   "activation_id", "person_id", "batch_id")  # fmt: skip
TRAIL_COLUMNS = ("device_id", "seq", "person_id", "activation_id", "device_time", "lat", "lon", "accuracy_m")
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str | None) -> str:
    """A value in COPY's text format (NULL as \\N; backslash, tab and line ends escaped)."""
    if value is None:
        return "\\N"
    return (
        value.translate(_ESCAPES)
        if ("\\" in value or "\t" in value or "\n" in value or "\r" in value)
        else value
    )


def _json(value: Any) -> str:
    """JSON for a json column, as COPY text. orjson refuses what the standard library writes (a lone surrogate
    read by the fallback parser): then the standard library's form, as before."""
    try:
        text = orjson.dumps(value).decode()
    except orjson.JSONEncodeError:
        text = json.dumps(value)
    return text.replace("\\", "\\\\") if "\\" in text else text


def _flags(m: Message, act: Any) -> str:
    flags = [*m.flags, "no_activation"] if act is None else m.flags
    return _json(list(flags)) if flags else "[]"


def copy_buffers(
    batch_id: int, resolved: dict[tuple[str, int], tuple[Message, Any]], *, with_trail: bool = True
) -> tuple[str, str]:
    """The COPY text of the batch's messages and of its trail points (fixes from devices on an activation)."""
    lines: list[str] = []
    trail: list[str] = []
    last_rx, rt = None, ""
    who_of: dict[str, tuple[str, str]] = {}  # activation -> its columns in each table (devices repeat)
    tail = f"\t{batch_id}\n"
    for m, act in resolved.values():
        if m.receive_time is not last_rx:  # one receipt time per batch, as a rule
            last_rx, rt = m.receive_time, m.receive_time.isoformat()
        dt = m.device_time.isoformat()
        if act is None:
            who = "\t\\N\t\\N"
            flags = _flags(m, act)
        else:
            cached = who_of.get(act.activation_id)
            if cached is None:
                activation, person = _text(act.activation_id), _text(act.person_id)
                cached = who_of[act.activation_id] = (
                    f"\t{activation}\t{person}",
                    f"\t{person}\t{activation}\t",
                )
            who = cached[0]
            flags = _flags(m, act) if m.flags else "[]"
            if with_trail and m.type == "gps":
                p = m.payload
                trail.append(
                    f"{m.device_id}\t{m.seq}{cached[1]}{dt}\t{p['lat']!r}\t{p['lon']!r}\t{p['accuracy_m']!r}\n"
                )
        lines.append(f"{m.device_id}\t{m.seq}\t{m.type}\t{dt}\t{rt}\t{_json(m.payload)}\t{flags}{who}{tail}")
    return "".join(lines), "".join(trail)


def copy_new(cur: Any, batch_id: int, resolved: dict[tuple[str, int], tuple[Message, Any]]) -> bool:
    """COPY the batch straight into the tables, in a savepoint; False (nothing written) when one of its
    messages is already stored, or a concurrent writer holds the same key (its transaction decides)."""
    messages, trail = copy_buffers(batch_id, resolved)
    cur.execute("SAVEPOINT telemetry_copy")
    try:
        with cur.copy(f"COPY telemetry_messages ({', '.join(MESSAGE_COLUMNS)}) FROM STDIN") as cp:
            cp.write(messages)
        if trail:
            with cur.copy(f"COPY trail_points ({', '.join(TRAIL_COLUMNS)}) FROM STDIN") as cp:
                cp.write(trail)
    except (errors.UniqueViolation, errors.DeadlockDetected):
        cur.execute("ROLLBACK TO SAVEPOINT telemetry_copy")
        return False
    cur.execute("RELEASE SAVEPOINT telemetry_copy")
    return True


def copy_skipping_stored(
    cur: Any, batch_id: int, resolved: dict[tuple[str, int], tuple[Message, Any]]
) -> set[tuple[str, int]]:
    """COPY the batch into a transaction-local staging table, then one INSERT ... SELECT that skips the
    messages already stored; returns the keys stored now (trail points are the caller's)."""
    cols = ", ".join(MESSAGE_COLUMNS)
    cur.execute(
        "CREATE TEMP TABLE IF NOT EXISTS telemetry_stage (LIKE telemetry_messages INCLUDING DEFAULTS) "
        "ON COMMIT DELETE ROWS"
    )
    messages, _ = copy_buffers(batch_id, resolved, with_trail=False)
    with cur.copy(f"COPY telemetry_stage ({cols}) FROM STDIN") as cp:
        cp.write(messages)
    cur.execute(
        f"INSERT INTO telemetry_messages ({cols}) SELECT {cols} FROM telemetry_stage "
        "ON CONFLICT DO NOTHING RETURNING device_id, seq"
    )
    stored = {(r[0], r[1]) for r in cur.fetchall()}
    cur.execute("TRUNCATE telemetry_stage")
    return stored
