"""A background thread that runs one step now and then, at once when woken: the shape the outbox dispatcher
and notify's deliverer share. A failing step is logged and the loop goes on (what it had not finished stays
where it was, to be tried on the next step)."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("openem.bus")


class WakeableLoop:
    #: the thread's name, and what its errors are logged as
    loop_name = "loop"

    def __init__(self) -> None:
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> None:
        raise NotImplementedError

    def finished(self) -> None:
        """Run by the loop's thread as it ends (after its last step)."""

    def wake(self) -> None:
        self._wake.set()

    @property
    def running(self) -> bool:
        """Started and not yet told to stop (a caller can hand it work instead of doing the work itself)."""
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def start(self, interval_s: float = 1.0) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                try:
                    self.step()
                except Exception:  # noqa: BLE001 - the loop must keep going
                    log.exception("%s error", self.loop_name)
                self._wake.wait(interval_s)
                self._wake.clear()
            self.finished()

        self._thread = threading.Thread(target=loop, name=self.loop_name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout=5)
