"""Matching off the request: a thread in the server that takes queued runs (`service.queue_run`) and carries
them out (`service.process_queued`), woken at once by an upload and polling every few seconds for runs queued by
another process. Several servers may run it: each run is claimed by one (queued -> running in one UPDATE)."""

from __future__ import annotations

from typing import Any

from openem.bus.loop import WakeableLoop
from openem.crime import service


class CrimeRunner(WakeableLoop):
    loop_name = "crime-runner"

    def __init__(self, db: Any) -> None:
        super().__init__()
        self.db = db

    def step(self) -> None:
        while service.process_queued(self.db):
            pass
