"""Reading a force's crime file (pure): 13 headerless columns, one force and one batch per file, every row
checked, each refusal with its type, field, value and the action the force must take. Tolerates a byte-order
mark, blank lines, CRLF and stray quotes; refuses binary junk, oversized files and files where every row fails.

Also the pure parts of matching that need no engine: comparing a crime's versions, and exporting text that a
spreadsheet would otherwise execute (formula injection)."""

from __future__ import annotations

import csv
import math
import re
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

import shapely
from shapely.geometry import Polygon

from openem.core.geo import bng_to_wgs84
from openem.crime.model import (
    COLUMNS,
    CRIME_TYPES,
    Crime,
    FileError,
    ParsedFile,
    RowError,
    force_by_identifier,
    policy,
)

REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/_.\- ]*$")
DATE = re.compile(r"^\d{14}$")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

ACTIONS: dict[str, str] = {
    "wrong_column_count": "Send the row with exactly 13 comma-separated columns, in the agreed order",
    "missing_field": "Fill in this field and send the crime again",
    "unknown_force": "Use one of the 19 force names in the scheme, exactly as agreed",
    "unknown_crime_type": "Use one of the crime types RB, BIAD, AB, BOTD, TOMV, TFP or TFMV",
    "bad_batch_id": "Give the batch id as the force, the date (yyyyMMdd), an optional -N and -R or -A",
    "bad_reference": "Give the crime reference in letters, digits, / - _ . or spaces, at most 50 characters",
    "bad_date": "Give the date as yyyyMMddHHmmss in UTC (for example 20261201143000)",
    "window_reversed": "Make the date to the same as or later than the date from",
    "window_too_long": "Narrow the window to 12 hours or less, or send the crime as several windows",
    "both_locations": "Give either easting and northing or latitude and longitude, not both",
    "no_location": "Give the crime's easting and northing, or its latitude and longitude",
    "half_location": "Give both numbers of the pair (easting with northing, latitude with longitude)",
    "bad_number": "Give the coordinate as a plain number",
    "out_of_range": "Give a coordinate within Great Britain's range (E 0-600000, N 0-1300000; lat 49.5-61.5, lon -8.5-2.6)",
    "outside_england_wales": "Check the location: the scheme covers England and Wales only",
    "text_too_long": "Shorten the crime text to 1,000 characters or fewer",
    "duplicate_reference": "Send each crime reference once in a batch",
    "other_force": "Send each force's crimes in a file of their own",
    "other_batch": "Send each batch in a file of its own",
}

FILE_ACTIONS: dict[str, str] = {
    "empty": "Attach the crime file: this one has no rows",
    "not_csv": "Send the crimes as a comma-separated text file (CSV), not a spreadsheet or other document",
    "too_large": "Split the batch into files of 5 MB or less",
    "too_many_rows": "Split the batch into files of 20,000 crimes or fewer",
    "several_forces": "Send one force's crimes per file",
    "several_batches": "Send one batch per file",
    "every_row_failed": "Correct the rows listed and send the file again",
}


@cache
def _england_wales() -> Polygon:
    poly = Polygon(policy()["england_wales_envelope"])
    shapely.prepare(poly)
    return poly


def in_england_wales(lat: float, lon: float) -> bool:
    return bool(shapely.contains_xy(_england_wales(), lon, lat))


def decode(data: bytes) -> str | None:
    """The file's text, or None if it is not text (NUL bytes, or many bytes that no text encoding uses)."""
    if b"\x00" in data[:65536]:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    sample = text[:65536]
    if sample:
        odd = sum(1 for ch in sample if (ord(ch) < 32 and ch not in "\r\n\t") or ch == "\ufffd")
        if odd / len(sample) > 0.01:
            return None
    return text.lstrip("\ufeff")


def split_row(line: str) -> list[str]:
    """One line as its fields; a stray quote (an odd count, or one inside a field) is read as a character."""
    try:
        fields = next(csv.reader([line], strict=True))
    except (csv.Error, StopIteration):
        fields = []
    if len(fields) != len(COLUMNS) and '"' in line:
        fields = [f.strip().strip('"') for f in line.split(",")]
    if len(fields) > len(COLUMNS):  # unquoted commas in the free text, the last column
        fields = [*fields[: len(COLUMNS) - 1], ",".join(fields[len(COLUMNS) - 1 :])]
    return [f.strip() for f in fields]


def _date(value: str) -> datetime | None:
    if not DATE.match(value):
        return None
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def _number(value: str) -> float | None:
    try:
        n = float(value)
    except ValueError:
        return None
    return n if math.isfinite(n) else None


def batch_pattern(force_identifier: str, force_code: str) -> re.Pattern[str]:
    names = "|".join(re.escape(n) for n in {force_identifier, force_code})
    return re.compile(rf"^(?:{names})(\d{{8}})(-\d)?(-[RAra])?$", re.IGNORECASE)


def check_row(line_no: int, f: list[str]) -> tuple[Crime | None, list[RowError]]:
    errors: list[RowError] = []

    def err(kind: str, column: str, value: str) -> None:
        errors.append(RowError(line_no, kind, column, value[:200], ACTIONS[kind]))

    if len(f) != len(COLUMNS):
        err("wrong_column_count", "row", f"{len(f)} columns")
        return None, errors
    v = dict(zip(COLUMNS, f, strict=True))
    for name in ("police_force", "crime_type_id", "batch_id", "crime_reference", "date_from", "date_to"):
        if not v[name]:
            err("missing_field", name, "")
    force = force_by_identifier(v["police_force"]) if v["police_force"] else None
    if v["police_force"] and force is None:
        err("unknown_force", "police_force", v["police_force"])
    crime_type = v["crime_type_id"].upper()
    if v["crime_type_id"] and crime_type not in CRIME_TYPES:
        err("unknown_crime_type", "crime_type_id", v["crime_type_id"])
    if force and v["batch_id"]:
        m = batch_pattern(force.identifier, force.code).match(v["batch_id"])
        if not m or _date(m.group(1) + "000000") is None:
            err("bad_batch_id", "batch_id", v["batch_id"])
    ref = v["crime_reference"]
    if ref and (len(ref) > int(policy()["max_reference_chars"]) or not REFERENCE.match(ref)):
        err("bad_reference", "crime_reference", ref)
    frm, to = _date(v["date_from"]), _date(v["date_to"])
    for name, parsed in (("date_from", frm), ("date_to", to)):
        if v[name] and parsed is None:
            err("bad_date", name, v[name])
    if frm and to:
        if to < frm:
            err("window_reversed", "date_to", v["date_to"])
        elif to - frm > timedelta(hours=float(policy()["max_window_h"])):
            err("window_too_long", "date_to", v["date_to"])
    lat, lon, east, north = _location(v, err)
    text = CONTROL.sub(" ", v["crime_text"])
    if len(text) > int(policy()["max_text_chars"]):
        err("text_too_long", "crime_text", text[:40] + "…")
    if errors or force is None or frm is None or to is None or lat is None or lon is None:
        return None, errors
    crime = Crime(line_no, force.identifier, crime_type, v["batch_id"].upper(), ref, frm, to, lat, lon,
                  east, north, text)  # fmt: skip
    return crime, errors


def _location(v: dict[str, str], err: Any) -> tuple[float | None, float | None, float | None, float | None]:
    """(lat, lon, easting, northing) from either pair, never both; errors through `err`."""
    has_en = bool(v["easting"] or v["northing"])
    has_ll = bool(v["latitude"] or v["longitude"])
    if has_en and has_ll:
        err("both_locations", "easting" if v["easting"] else "northing", f"{v['easting']},{v['latitude']}")
        return None, None, None, None
    if not has_en and not has_ll:
        err("no_location", "easting", "")
        return None, None, None, None
    a, b = ("easting", "northing") if has_en else ("latitude", "longitude")
    if not v[a] or not v[b]:
        err("half_location", b if v[a] else a, v[a] or v[b])
        return None, None, None, None
    x, y = _number(v[a]), _number(v[b])
    bad = False
    for name, n in ((a, x), (b, y)):
        if n is None:
            err("bad_number", name, v[name])
            bad = True
    if bad or x is None or y is None:
        return None, None, None, None
    if has_en:
        if not (0 <= x <= 600_000):
            err("out_of_range", "easting", v["easting"])
            bad = True
        if not (0 <= y <= 1_300_000):
            err("out_of_range", "northing", v["northing"])
            bad = True
        if bad:
            return None, None, None, None
        lon, lat = bng_to_wgs84(x, y)
        east, north = x, y
    else:
        lat, lon, east, north = x, y, None, None
        if not (49.5 <= lat <= 61.5):
            err("out_of_range", "latitude", v["latitude"])
            bad = True
        if not (-8.5 <= lon <= 2.6):
            err("out_of_range", "longitude", v["longitude"])
            bad = True
        if bad:
            return None, None, None, None
    if not in_england_wales(float(lat), float(lon)):
        err("outside_england_wales", a, f"{v[a]},{v[b]}")
        return None, None, None, None
    return float(lat), float(lon), east, north


def parse_file(data: bytes) -> ParsedFile:
    """Every row of a force's file checked; file errors refuse the whole file (nothing is kept)."""
    out = ParsedFile()
    pol = policy()
    if len(data) > int(pol["max_file_bytes"]):
        out.file_errors.append(FileError("too_large", f"The file is {len(data):,} bytes; the most is "
                                         f"{int(pol['max_file_bytes']):,}", FILE_ACTIONS["too_large"]))  # fmt: skip
        return out
    text = decode(data)
    if text is None:
        out.file_errors.append(
            FileError("not_csv", "The file is not a text CSV file", FILE_ACTIONS["not_csv"])
        )
        return out
    lines = [(i, line) for i, line in enumerate(text.splitlines(), 1) if line.strip().strip(",").strip('"')]
    out.rows = len(lines)
    if not lines:
        out.file_errors.append(FileError("empty", "The file has no rows", FILE_ACTIONS["empty"]))
        return out
    if len(lines) > int(pol["max_rows"]):
        out.file_errors.append(FileError("too_many_rows", f"The file has {len(lines):,} rows; the most is "
                                         f"{int(pol['max_rows']):,}", FILE_ACTIONS["too_many_rows"]))  # fmt: skip
        return out
    parsed = [(i, split_row(line)) for i, line in lines]
    if sum(1 for _, f in parsed if len(f) == len(COLUMNS)) == 0 and all(len(f) <= 1 for _, f in parsed):
        out.file_errors.append(FileError("not_csv", "No line of the file has comma-separated columns",
                                         FILE_ACTIONS["not_csv"]))  # fmt: skip
        return out
    seen: dict[str, int] = {}
    for line_no, fields in parsed:
        crime, errors = check_row(line_no, fields)
        out.row_errors.extend(errors)
        if crime is None:
            continue
        if crime.reference.upper() in seen:
            out.row_errors.append(RowError(line_no, "duplicate_reference", "crime_reference", crime.reference,
                                           ACTIONS["duplicate_reference"]))  # fmt: skip
            continue
        seen[crime.reference.upper()] = line_no
        out.crimes.append(crime)
    _one_force_one_batch(out)
    if not out.file_errors and not out.crimes:
        out.file_errors.append(FileError("every_row_failed", f"None of the {out.rows:,} rows could be accepted",
                                         FILE_ACTIONS["every_row_failed"]))  # fmt: skip
    return out


def _one_force_one_batch(out: ParsedFile) -> None:
    forces_seen = {c.force for c in out.crimes}
    batches = {c.batch_id for c in out.crimes}
    if len(forces_seen) > 1:
        out.file_errors.append(FileError("several_forces", "The file holds crimes of " + ", ".join(sorted(forces_seen)),
                                         FILE_ACTIONS["several_forces"]))  # fmt: skip
    if len(batches) > 1:
        out.file_errors.append(FileError("several_batches", "The file holds batches " + ", ".join(sorted(batches)[:5]),
                                         FILE_ACTIONS["several_batches"]))  # fmt: skip
    if out.crimes and not out.file_errors:
        out.force, out.batch_id = out.crimes[0].force, out.crimes[0].batch_id


# --- versions and exports ------------------------------------------------------------------------------------


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """The fields of a crime that differ between two versions (empty: the same crime sent again)."""
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def safe_cell(value: Any) -> str:
    """A value for a CSV cell that a spreadsheet will show, never run: formula starters are quoted."""
    text = "" if value is None else str(value)
    if text[:1] in ("+", "-"):
        try:
            float(text)
            return text  # a plain signed number (a longitude) stays a number
        except ValueError:
            pass
    if text[:1] in ("=", "+", "-", "@", "\t", "\r", "|", "%"):
        return "'" + text
    return text


def errors_csv_rows(parsed: ParsedFile) -> list[list[str]]:
    """What goes back to the force: one line per error (file errors first), with the action to take."""
    rows = [["row", "error_type", "field", "value", "action"]]
    rows += [["", e.type, "", e.message, e.action] for e in parsed.file_errors]
    rows += [[str(e.row), e.type, e.field, e.value, e.action] for e in parsed.row_errors]
    return [[safe_cell(c) for c in r] for r in rows]
