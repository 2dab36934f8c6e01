"""Where the in-server engine stands in the telemetry store: which stored batches it has processed.

Batches are numbered by the store as they are written, but concurrent requests commit (and reach the engine)
in any order, and a batch whose transaction rolled back leaves a number that never appears. So the position is
`through` (every batch up to it is processed, parked or was never committed) plus `above` (the batches after it
already processed). A missing number is taken as never committed once a later batch has been stored for
`VOID_AFTER_S`: no ingest transaction lives that long, so nothing with that number can still commit."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

VOID_AFTER_S = 300.0


@dataclasses.dataclass
class Position:
    through: int = 0
    above: set[int] = dataclasses.field(default_factory=set)

    def done(self, batch_id: int) -> bool:
        return batch_id <= self.through or batch_id in self.above

    def mark(self, batch_id: int) -> None:
        if batch_id > self.through:
            self.above.add(batch_id)
            self._compact(set())

    def settle(self, stored: list[tuple[int, datetime, int]], now: datetime) -> None:
        """Move `through` past numbers the store shows were never committed. `stored`: (id, received at, n) of
        the batches stored after `through` (telemetry.queries.batches_after)."""
        cutoff = now - timedelta(seconds=VOID_AFTER_S)
        old = max((i for i, at, _ in stored if at <= cutoff), default=self.through)
        present = {i for i, _, _ in stored}
        self._compact({i for i in range(self.through + 1, old + 1) if i not in present})

    def _compact(self, void: set[int]) -> None:
        while self.through + 1 in self.above or self.through + 1 in void:
            self.through += 1
            self.above.discard(self.through)

    def to_json(self) -> dict[str, Any]:
        return {"through": self.through, "above": sorted(self.above)}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Position:
        data = data or {}
        return cls(int(data.get("through", 0)), {int(i) for i in data.get("above", ())})
