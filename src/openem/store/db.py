"""Engine and unit of work. SQLite file under var/ by default; PostgreSQL (psycopg 3) in production."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Use psycopg 3 for PostgreSQL URLs given in the common short forms."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _json_dumps(value: Any) -> str:
    """JSON for JSON columns: orjson (several times faster than the standard library on telemetry payloads)."""
    import orjson

    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    kwargs.setdefault("json_serializer", _json_dumps)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _rec: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, **kwargs)


@dataclass(frozen=True)
class AuditEntry:
    """One audit row to write in the unit of work's commit (the arguments of `openem.auth.audit.record`)."""

    actor: str
    action: str
    records: tuple[str, ...] = ()
    purpose: str = ""
    outcome: str = "ok"
    details: dict[str, Any] = field(default_factory=dict)


EventWriter = Callable[[Session, list[Any]], None]
AuditWriter = Callable[[Session, list[AuditEntry]], None]
#: Who writes a unit of work's collected events (to the outbox) and audit entries (to the hash-chained log) in
#: its commit. The store sits below the bus and auth, so those register themselves when imported
#: (`openem.bus.outbox`, imported by the `openem.bus` package and so by every event class, and
#: `openem.auth.audit`, imported by the `openem.auth` package): every Database has them, nothing to install.
_writers: dict[str, Callable[..., None]] = {}


def register_event_writer(fn: EventWriter) -> None:
    _writers["events"] = fn


def register_audit_writer(fn: AuditWriter) -> None:
    _writers["audit"] = fn


@dataclass
class UnitOfWork:
    """One transaction. The events and audit entries a service adds are written in this transaction's own
    commit (events to the outbox, audit rows to the audit log), so that no caller can forget them; after commit
    the callbacks registered with `after_commit` run (e.g. waking the outbox dispatcher)."""

    session: Session
    pending_events: list[Any] = field(default_factory=list)
    pending_audit: list[AuditEntry] = field(default_factory=list)
    _after_commit: list[Callable[[], None]] = field(default_factory=list)

    def add_event(self, event_obj: Any) -> None:
        if "events" not in _writers:  # never drop an event silently
            raise RuntimeError("no outbox writer registered: import openem.bus before adding events")
        self.pending_events.append(event_obj)

    def add_audit(
        self,
        *,
        actor: str,
        action: str,
        records: Iterable[str] = (),
        purpose: str = "",
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> None:
        if "audit" not in _writers:
            raise RuntimeError("no audit writer registered: import openem.auth before adding audit entries")
        self.pending_audit.append(
            AuditEntry(actor, action, tuple(str(r) for r in records), purpose, outcome, dict(details or {}))
        )

    def after_commit(self, fn: Callable[[], None]) -> None:
        self._after_commit.append(fn)

    def write_collected(self) -> None:
        """Write the collected events and audit entries into the transaction (run just before commit)."""
        if self.pending_events:
            events, self.pending_events = self.pending_events, []
            _writers["events"](self.session, events)
        if self.pending_audit:
            entries, self.pending_audit = self.pending_audit, []
            _writers["audit"](self.session, entries)


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._before_commit: list[Callable[[UnitOfWork], None]] = []

    @property
    def is_sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    def on_before_commit(self, fn: Callable[[UnitOfWork], None]) -> None:
        """Hook run inside every transaction just before its collected events and audit are written."""
        self._before_commit.append(fn)

    @contextmanager
    def uow(self) -> Iterator[UnitOfWork]:
        session = self.sessions()
        uow = UnitOfWork(session)
        try:
            yield uow
            for hook in self._before_commit:
                hook(uow)
            uow.write_collected()
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        for fn in uow._after_commit:
            fn()

    def dispose(self) -> None:
        self.engine.dispose()
