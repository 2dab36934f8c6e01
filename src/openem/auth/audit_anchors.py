"""Signed anchors of the audit chain's head, written outside the database (append-only JSON Lines).

An anchor says "on AT the chain reached row SEQ with hash HASH", MACed with an audit key. Rows can then not be
deleted from the end, nor the chain rebuilt, behind an anchor without `verify` noticing, even by someone who
can write to the database. Anchors are written after the commit of the rows they name (never for a row that
might roll back): when `every_rows` rows have been committed since the last anchor, `every_s` seconds after
an unanchored commit, at a clean exit, and by `openem audit anchor`.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from openem.auth.audit_digest import anchor_message, same
from openem.auth.audit_keys import KeyRing
from openem.core.time import iso, utcnow

log = logging.getLogger("openem.audit")


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: str
    key_id: str
    mac: str

    def signed_by(self, keys: KeyRing) -> bool:
        return keys.knows(self.key_id) and same(
            self.mac, keys.mac(self.key_id, anchor_message(self.seq, self.hash, self.at, self.key_id))
        )


def make_anchor(keys: KeyRing, seq: int, row_hash: str) -> Anchor:
    at = iso(utcnow())
    key_id = keys.current_id
    return Anchor(seq, row_hash, at, key_id, keys.mac(key_id, anchor_message(seq, row_hash, at, key_id)))


def append(paths: Iterable[Path], anchor: Anchor) -> None:
    """One line per anchor, appended under an exclusive lock and synced (several processes share the file)."""
    line = (json.dumps(anchor.__dict__, sort_keys=True, separators=(",", ":")) + "\n").encode()
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def read_anchors(paths: Iterable[Path]) -> tuple[list[Anchor], int]:
    """Every anchor in the files (missing files hold none), and how many lines could not be read."""
    anchors: list[Anchor] = []
    unreadable = 0
    for path in paths:
        if not path.exists():
            continue
        for line in path.read_text(errors="replace").splitlines():
            if not line.strip():
                continue
            try:
                d = json.loads(line)
                anchors.append(
                    Anchor(int(d["seq"]), str(d["hash"]), str(d["at"]), str(d["key_id"]), str(d["mac"]))
                )
            except (ValueError, KeyError, TypeError):
                unreadable += 1
    return anchors, unreadable


class AnchorWriter:
    """Per process and database: anchors the newest row this process committed, every N rows or T seconds."""

    def __init__(self, keys: KeyRing, paths: tuple[Path, ...], every_rows: int, every_s: float) -> None:
        self.keys = keys
        self.paths = paths
        self.every_rows = every_rows
        self.every_s = every_s
        self._lock = threading.Lock()
        self._latest: tuple[int, str] | None = None
        self._anchored = 0
        self._timer: threading.Timer | None = None
        atexit.register(self.flush)

    def committed(self, seq: int, row_hash: str) -> None:
        with self._lock:
            if self._latest is None or seq > self._latest[0]:
                self._latest = (seq, row_hash)
            if seq - self._anchored >= self.every_rows:
                self._write_latest()
            elif self._timer is None:
                self._timer = threading.Timer(self.every_s, self.flush)
                self._timer.daemon = True
                self._timer.start()

    def flush(self) -> None:
        with self._lock:
            if self._latest is not None and self._latest[0] > self._anchored:
                self._write_latest()

    def _write_latest(self) -> None:
        assert self._latest is not None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        seq, row_hash = self._latest
        try:
            append(self.paths, make_anchor(self.keys, seq, row_hash))
        except OSError:
            # The rows are committed; failing the request now would not undo them. Loud, and retried next time.
            log.exception("could not write the audit anchor", extra={"paths": [str(p) for p in self.paths]})
            return
        self._anchored = seq
