"""Bulk import of court results from CSV: all or nothing, with per-row errors.

Columns (header row required, UTF-8, one court result per row; dates `YYYY-MM-DD` and times `HH:MM` are
Europe/London wall-clock):

    case_ref, court_code, first_name, last_name, date_of_birth, sex, gender, pnc,
    address_line1, address_town, postcode, cohort, order_type, start_date, start_time, end_date, end_time,
    curfew_start, curfew_end, curfew_days (e.g. "MONDAY;TUESDAY" or "ALL"),
    responsible_organisation, police_area, probation_region, delivery_unit,
    officer_name, officer_email, team_email

A row becomes a NEW order (curfew condition, installation at home, notifying organisation a magistrates'
court) and is validated like any order. If any row has an error, nothing is imported.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, date, datetime, time
from typing import Any

from openem.core.time import LONDON, iso
from openem.orders.model import DAYS
from openem.orders.rules import validate_order
from openem.orders.rules.base import wall_minutes

COLUMNS = (
    "case_ref", "court_code", "first_name", "last_name", "date_of_birth", "sex", "gender", "pnc",
    "address_line1", "address_town", "postcode", "cohort", "order_type", "start_date", "start_time",
    "end_date", "end_time", "curfew_start", "curfew_end", "curfew_days", "responsible_organisation",
    "police_area", "probation_region", "delivery_unit", "officer_name", "officer_email", "team_email",
)  # fmt: skip
MAX_BYTES = 5 * 1024 * 1024
MAX_ROWS = 5000
MAX_CELL = 500
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


@dataclasses.dataclass(frozen=True, slots=True)
class RowError:
    row: int  # 1-based data row (the header is row 0); 0 for file-level problems
    code: str
    field: str
    message: str


@dataclasses.dataclass(frozen=True)
class ImportResult:
    orders: tuple[dict[str, Any], ...]  # empty unless every row is valid
    errors: tuple[RowError, ...]

    @property
    def imported(self) -> bool:
        return not self.errors and bool(self.orders)


def local_instant(d: str, t: str) -> tuple[str | None, str | None]:
    """UTC instant of a Europe/London date and time, or (None, problem) if unreal, skipped or repeated."""
    try:
        day = date.fromisoformat(d)
    except ValueError:
        return None, "must be a real date, like 2027-03-28"
    minutes = wall_minutes(t)
    if minutes is None:
        return None, "must be a real time, like 19:00"
    naive = datetime.combine(day, time(minutes // 60, minutes % 60))
    first, second = naive.replace(tzinfo=LONDON, fold=0), naive.replace(tzinfo=LONDON, fold=1)
    if first.utcoffset() != second.utcoffset():
        skipped = first.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != naive
        return (
            None,
            "does not exist: the clocks go forward at that time"
            if skipped
            else "happens twice: the clocks go back at that time. Choose another time",
        )
    return iso(first), None


def _file_error(code: str, message: str) -> ImportResult:
    return ImportResult((), (RowError(0, code, "", message),))


def import_court_results(data: bytes, *, now: datetime) -> ImportResult:
    if len(data) > MAX_BYTES:
        return _file_error("file_too_large", f"The file must be smaller than {MAX_BYTES // (1024 * 1024)} MB")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _file_error("encoding", "The file must be saved as UTF-8 CSV")
    if "\x00" in text:
        return _file_error("encoding", "The file must be a CSV file")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        rows = list(reader)
    except csv.Error:
        return _file_error("not_csv", "The file must be a CSV file")
    if not rows or [h.strip() for h in rows[0]] != list(COLUMNS):
        return _file_error("header", "The first row must be the column names: " + ", ".join(COLUMNS))
    body = [r for r in rows[1:] if any(c.strip() for c in r)]
    if not body:
        return _file_error("empty", "The file has no court results")
    if len(body) > MAX_ROWS:
        return _file_error("too_many_rows", f"The file must have {MAX_ROWS} rows or fewer")
    orders, errors = [], []
    for number, raw in enumerate(body, start=1):
        doc, row_errors = _row_to_order(number, raw)
        if doc is not None:
            row_errors += [RowError(number, e.code, e.field, e.message) for e in validate_order(doc, now=now)]
            orders.append(doc)
        errors += row_errors
    if errors:
        return ImportResult((), tuple(errors))
    return ImportResult(tuple(orders), ())


def _row_to_order(number: int, raw: list[str]) -> tuple[dict[str, Any] | None, list[RowError]]:
    if len(raw) != len(COLUMNS):
        return None, [RowError(number, "column_count", "", f"Row {number} must have {len(COLUMNS)} columns")]
    errors = []
    row = {}
    for column, cell in zip(COLUMNS, raw, strict=True):
        if len(cell) > MAX_CELL:
            errors.append(
                RowError(number, "too_long", column, f"{column} must be {MAX_CELL} characters or fewer")
            )
        elif cell.startswith(FORMULA_PREFIXES):
            errors.append(
                RowError(
                    number,
                    "formula",
                    column,
                    f"{column} must not start with =, +, -, @ or a tab (spreadsheet formulas are not allowed)",
                )
            )
        row[column] = cell.strip()
    if errors:
        return None, errors
    start, problem = local_instant(row["start_date"], row["start_time"])
    if problem:
        errors.append(
            RowError(number, "invalid_local_time", "start_time", f"The start date and time {problem}")
        )
    end, problem = local_instant(row["end_date"], row["end_time"])
    if problem:
        errors.append(RowError(number, "invalid_local_time", "end_time", f"The end date and time {problem}"))
    days = (
        DAYS
        if row["curfew_days"].upper() == "ALL"
        else tuple(d.strip().upper() for d in row["curfew_days"].split(";") if d.strip())
    )
    if not days or any(d not in DAYS for d in days):
        errors.append(
            RowError(
                number, "invalid_days", "curfew_days", "Curfew days must be ALL or day names separated by ;"
            )
        )
    if errors:
        return None, errors

    def opt(key: str) -> Any:
        return row[key] or None

    doc = {
        "ref": f"COURT-{row['case_ref']}" if row["case_ref"] else None,
        "version": 1,
        "request_type": "NEW",
        "device_wearer": {
            "first_name": row["first_name"], "last_name": row["last_name"], "date_of_birth": row["date_of_birth"],
            "is_adult": True, "sex": row["sex"], "gender": row["gender"], "pnc": opt("pnc"), "interpreter_required": False,
        },
        "addresses": [{"type": "PRIMARY", "line1": row["address_line1"], "town": row["address_town"], "postcode": row["postcode"]}],
        "interested_parties": {
            "notifying_organisation": "MAGISTRATES_COURT", "notifying_organisation_name": row["court_code"],
            "notifying_team_email": row["team_email"], "responsible_organisation": row["responsible_organisation"],
            "police_area": opt("police_area"), "probation_region": opt("probation_region"), "delivery_unit": opt("delivery_unit"),
            "responsible_officer_name": row["officer_name"], "responsible_officer_email": opt("officer_email"),
        },
        "monitoring": {"cohort": row["cohort"] or None, "order_type": row["order_type"], "start": start, "end": end},
        "conditions": {
            "curfew": {
                "start": start, "end": end,
                "timetable": [{"day": d, "start": row["curfew_start"], "end": row["curfew_end"], "address_type": "PRIMARY"} for d in days],
            }
        },
        "installation": {"location": "HOME"},
    }  # fmt: skip
    return doc, []
