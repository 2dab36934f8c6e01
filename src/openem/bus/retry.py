"""How often a failing message is tried again before it is parked, and how long to wait between tries.

From the environment (safe defaults): `OPENEM_BUS_MAX_ATTEMPTS` (5) deliveries, waiting
`OPENEM_BUS_RETRY_BASE_S` (2 s) after the first failure, doubling each time up to `OPENEM_BUS_RETRY_MAX_S`
(300 s). With the defaults a message is parked about 30 s after its first failure.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta


class DestinationUnavailable(Exception):
    """The broker (or whatever a publisher sends to) is down: not the message's fault. The dispatcher waits
    and tries again without counting it against the message, so an outage parks nothing."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_s: float = 2.0
    max_s: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"OPENEM_BUS_MAX_ATTEMPTS must be at least 1, not {self.max_attempts}")
        if self.base_s < 0 or self.max_s < self.base_s:
            raise ValueError("OPENEM_BUS_RETRY_BASE_S must be >= 0 and no more than OPENEM_BUS_RETRY_MAX_S")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RetryPolicy:
        e = os.environ if env is None else env
        try:
            return cls(
                max_attempts=int(e.get("OPENEM_BUS_MAX_ATTEMPTS", "5")),
                base_s=float(e.get("OPENEM_BUS_RETRY_BASE_S", "2")),
                max_s=float(e.get("OPENEM_BUS_RETRY_MAX_S", "300")),
            )
        except ValueError as exc:
            raise ValueError(f"bus retry settings: {exc}") from None

    def exhausted(self, failures: int) -> bool:
        """After this many failed deliveries the message is parked."""
        return failures >= self.max_attempts

    def backoff(self, failures: int) -> timedelta:
        """The wait before the next delivery after `failures` failed ones (1, 2, ...)."""
        return timedelta(seconds=min(self.max_s, self.base_s * 2 ** max(0, failures - 1)))
