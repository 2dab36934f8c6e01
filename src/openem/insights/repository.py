"""Persistence of the person view: practitioner notes (its own table, `insights_person_notes`) and reading older positions from the
Parquet trail lake (`openem trail export`, `store.lake`), partition by partition so that one missing or corrupt
day is reported, never fatal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from openem.core.time import LONDON
from openem.store.base import Base
from openem.store.types import UTCDateTime

NOTE_MAX = 4000


class PersonNoteRow(Base):
    """A practitioner's note about a person: append-only (a correction is a new note that says so), with its
    author and the order it was written under; writing one is audited."""

    __tablename__ = "insights_person_notes"
    note_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[str] = mapped_column(String(40))
    order_ref: Mapped[str] = mapped_column(String(40), default="")
    author: Mapped[str] = mapped_column(String(80))  # the actor id of the user who wrote it
    author_name: Mapped[str] = mapped_column(String(120), default="")
    written_at: Mapped[datetime] = mapped_column(UTCDateTime())
    text: Mapped[str] = mapped_column(Text)

    __table_args__ = (Index("ix_insights_person_notes_person", "person_id", "written_at"),)


def add_note(
    session: Session,
    *,
    person_id: str,
    order_ref: str,
    author: str,
    author_name: str,
    text: str,
    at: datetime,
) -> PersonNoteRow:
    row = PersonNoteRow(person_id=person_id[:40], order_ref=order_ref[:40], author=author[:80],
                        author_name=author_name[:120], written_at=at, text=text[:NOTE_MAX])  # fmt: skip
    session.add(row)
    session.flush()
    return row


def notes_of(session: Session, person_id: str, limit: int = 500) -> list[dict[str, Any]]:
    """A person's notes, newest first."""
    n = PersonNoteRow
    rows = session.execute(
        select(n.note_id, n.order_ref, n.author, n.author_name, n.written_at, n.text)
        .where(n.person_id == person_id[:40])
        .order_by(n.written_at.desc(), n.note_id.desc())
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


@dataclass
class LakeRead:
    """What the lake gave for a window: the positions, the days read, and the days it could not read."""

    columns: dict[str, Any] | None = None  # as `telemetry.queries.trail_columns` gives them
    days_read: list[date] = field(default_factory=list)
    unreadable: list[date] = field(default_factory=list)
    #: days of the window with no partition although the lake holds days before and after them (an export
    #: that never ran, or a partition deleted): the caller says so when the recent store has nothing either
    absent: list[date] = field(default_factory=list)


def _held_days(lake_dir: Path) -> tuple[date, date] | None:
    """The lake's first and last partition days (`date=YYYY-MM-DD` directories), if it has any."""
    held = []
    for p in Path(lake_dir).glob("date=*"):
        try:
            held.append(date.fromisoformat(p.name[5:]))
        except ValueError:
            continue  # not a partition the exporter writes
    return (min(held), max(held)) if held else None


def london_days(frm: datetime, to: datetime) -> list[date]:
    first, last = frm.astimezone(LONDON).date(), (to - timedelta(microseconds=1)).astimezone(LONDON).date()
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def lake_trail(lake_dir: Path | None, person_id: str, frm: datetime, to: datetime) -> LakeRead:
    """A person's positions in [frm, to) from the lake's daily partitions, oldest first. A day without a
    partition is not in the lake (listed in `absent` when the lake holds days either side of it); a partition
    that cannot be read is listed in `unreadable`."""
    out = LakeRead()
    if lake_dir is None or not Path(lake_dir).is_dir():
        return out
    files: list[tuple[date, Path]] = []
    held = _held_days(lake_dir)
    for day in london_days(frm, to):
        part = Path(lake_dir) / f"date={day.isoformat()}"
        if part.is_dir():
            found = sorted(part.glob("*.parquet"))
            files.extend((day, f) for f in found)
            if not found:
                out.unreadable.append(day)
        elif held and held[0] < day < held[1]:
            out.absent.append(day)
    if not files:
        return out
    import duckdb

    con = duckdb.connect()
    parts: list[dict[str, Any]] = []
    try:
        for day, f in files:
            try:
                parts.append(
                    con.execute(
                        "SELECT device_id, seq, epoch_us(device_time) AS t_us, lat, lon, accuracy_m "
                        "FROM read_parquet(?) WHERE person_id = ? AND device_time >= ? AND device_time < ?",
                        [str(f), person_id[:40], frm, to],
                    ).fetchnumpy()
                )
                out.days_read.append(day)
            except (duckdb.Error, OSError, ValueError):
                out.unreadable.append(day)
    finally:
        con.close()
    out.unreadable = sorted(set(out.unreadable))
    parts = [p for p in parts if len(p["seq"])]
    if not parts:
        return out
    t_us = np.concatenate([np.asarray(p["t_us"], np.int64) for p in parts])
    order = np.lexsort((np.concatenate([np.asarray(p["seq"], np.int64) for p in parts]), t_us))

    def col(name: str, dtype: Any) -> Any:
        return np.concatenate([np.asarray(p[name], dtype) for p in parts])[order]

    devices = [d for p in parts for d in np.asarray(p["device_id"]).tolist()]
    out.columns = {"t_us": t_us[order], "seq": col("seq", np.int64), "lat": col("lat", np.float64),
                   "lon": col("lon", np.float64), "accuracy_m": np.nan_to_num(col("accuracy_m", np.float64)),
                   "device_id": [devices[i] for i in order.tolist()]}  # fmt: skip
    return out
