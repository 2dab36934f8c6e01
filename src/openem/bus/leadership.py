"""One active outbox dispatcher per database: whoever holds the database's dispatcher lock sends, the others
stand by and try again every step, so one takes over within a step of the holder dying.

- PostgreSQL: a session-level advisory lock (`pg_try_advisory_lock`) held by a connection of its own; the
  server frees it when that session ends, so a killed process (or a lost connection) gives it up.
- SQLite file: an exclusive `flock` on `<database file>.dispatcher.lock` beside it (one machine); the kernel
  frees it when the process dies.
- SQLite in memory: nobody else can open the database, so this process always leads.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import text
from sqlalchemy.engine import make_url

from openem.store.db import Database

log = logging.getLogger("openem.bus")

#: the advisory lock's key: a constant 64-bit number (advisory locks are scoped to the database already)
ADVISORY_KEY = int.from_bytes(hashlib.sha256(b"openem:outbox-dispatcher").digest()[:8], "big", signed=True)


class Leadership(Protocol):
    #: how the lock is held, for /health: "postgresql-advisory-lock", "lock-file" or "in-process"
    kind: str

    def try_acquire(self) -> bool:
        """True while this holder has the lock (kept, or just taken); False when someone else has it."""
        ...

    def release(self) -> None: ...


class InProcessLeadership:
    """An in-memory database: only this process can see it."""

    kind = "in-process"

    def try_acquire(self) -> bool:
        return True

    def release(self) -> None:
        pass


class FileLeadership:
    """An exclusive flock on a file beside the SQLite database. flock belongs to the open file, so two holders
    in one process exclude each other as two processes do."""

    kind = "lock-file"

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        import fcntl

        with self._mutex:
            if self._fd is not None and self._still_ours(self._fd):
                return True
            self._close()
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                return False
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()}\n".encode())  # who holds it, for an operator
            self._fd = fd
            return True

    def _still_ours(self, fd: int) -> bool:
        """The file we hold is still the one at the path (someone deleting it would let a second holder in)."""
        try:
            return os.fstat(fd).st_ino == os.stat(self.path).st_ino
        except OSError:
            return False

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor of the open file releases the flock
            self._fd = None

    def release(self) -> None:
        with self._mutex:
            self._close()


class AdvisoryLeadership:
    """A PostgreSQL session-level advisory lock on a connection kept for it (autocommit, so it never sits idle
    in a transaction). Each try checks the connection still answers: a lost session has lost the lock."""

    kind = "postgresql-advisory-lock"

    def __init__(self, db: Database, key: int = ADVISORY_KEY) -> None:
        self.db = db
        self.key = key
        self._conn: Any = None
        self._mutex = threading.Lock()

    def try_acquire(self) -> bool:
        with self._mutex:
            if self._conn is not None:
                try:
                    self._conn.execute(text("SELECT 1"))
                    return True
                except Exception:  # noqa: BLE001 - the session (and with it the lock) is gone
                    log.warning("outbox dispatcher lost its database session: standing by")
                    self._drop()
            try:
                conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            except Exception:  # noqa: BLE001 - database down: nobody can send; try again next step
                return False
            try:
                got = bool(conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}).scalar())
            except Exception:  # noqa: BLE001
                got = False
            if not got:
                conn.close()
                return False
            self._conn = conn
            return True

    def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.invalidate()  # close the session itself: a pooled session would keep the lock
            except Exception:  # noqa: BLE001
                pass

    def release(self) -> None:
        with self._mutex:
            self._drop()


def leadership_for(db: Database) -> Leadership:
    url = make_url(db.url)
    if not db.is_sqlite:
        return AdvisoryLeadership(db)
    if not url.database or url.database == ":memory:" or url.database.startswith("file::memory:"):
        return InProcessLeadership()
    return FileLeadership(Path(url.database + ".dispatcher.lock"))
