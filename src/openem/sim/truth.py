"""Ground truth collection (what really happened) and the naive-alert tally used for calibration."""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd

TRUTH_KINDS = (
    "curfew_absent", "curfew_late_return", "curfew_early_leave", "exclusion_entry", "inclusion_exit",
    "attendance_missed", "alcohol_drinking", "alcohol_contaminant", "alcohol_skin_tamper", "strap_tamper",
    "low_battery", "no_comms", "checkin_missed", "checkin_failed", "proximity", "device_fault",
)  # fmt: skip


class TruthLog:
    """Truth rows for one chunk of wearers; persons and devices are chunk indices until `frame`."""

    def __init__(self) -> None:
        self._parts: list[dict[str, np.ndarray]] = []
        # naive alerts: kind -> [alerts, alerts caused by a fault or contaminant (false alerts)]
        self.naive: dict[str, list[int]] = defaultdict(lambda: [0, 0])

    def add(
        self,
        kind: str,
        is_violation: bool | np.ndarray,
        person: np.ndarray,
        device: np.ndarray,
        condition: str,
        start: np.ndarray,
        end: np.ndarray,
        detail: str = "",
    ) -> None:
        n = len(person)
        if n == 0:
            return
        self._parts.append(
            {
                "kind": np.full(n, kind, dtype=object),
                "is_violation": np.broadcast_to(np.asarray(is_violation, dtype=bool), (n,)).copy(),
                "person": np.asarray(person, dtype=np.int64),
                "device": np.asarray(device, dtype=np.int64),
                "condition_id": np.full(n, condition, dtype=object),
                "start": np.asarray(start, dtype=np.int64),
                "end": np.asarray(end, dtype=np.int64),
                "detail": np.full(n, detail, dtype=object),
            }
        )

    def alert(self, kind: str, count: int, false_count: int = 0) -> None:
        self.naive[kind][0] += int(count)
        self.naive[kind][1] += int(false_count)

    def frame(self, person_ids: np.ndarray, order_refs: np.ndarray, device_ids: np.ndarray) -> pd.DataFrame:
        cols = [
            "kind",
            "is_violation",
            "person_id",
            "order_ref",
            "device_id",
            "condition_id",
            "start",
            "end",
            "detail",
        ]
        if not self._parts:
            return pd.DataFrame({c: pd.Series(dtype="object") for c in cols}).astype(
                {"is_violation": bool, "start": "datetime64[us, UTC]", "end": "datetime64[us, UTC]"}
            )
        merged = {k: np.concatenate([p[k] for p in self._parts]) for k in self._parts[0]}
        dev = merged["device"]
        return pd.DataFrame(
            {
                "kind": merged["kind"],
                "is_violation": merged["is_violation"],
                "person_id": person_ids[merged["person"]],
                "order_ref": order_refs[merged["person"]],
                "device_id": np.where(dev >= 0, device_ids[np.maximum(dev, 0)], None),
                "condition_id": merged["condition_id"],
                "start": pd.to_datetime(merged["start"], unit="us", utc=True),
                "end": pd.to_datetime(merged["end"], unit="us", utc=True),
                "detail": merged["detail"],
            }
        )
