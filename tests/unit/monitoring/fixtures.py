"""Small hand-made worlds for the monitoring tests (never the simulator)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any

from openem.core.time import iso

HOME = (53.800, -1.550)  # Leeds-ish (lat, lon)
T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday


def offset(lat: float, lon: float, north_m: float, east_m: float) -> tuple[float, float]:
    return lat + north_m / 111_320.0, lon + east_m / (111_320.0 * math.cos(math.radians(lat)))


def square(lat: float, lon: float, half_m: float) -> dict[str, Any]:
    ring = [offset(lat, lon, dy, dx) for dx, dy in ((-half_m, -half_m), (half_m, -half_m), (half_m, half_m),
                                                      (-half_m, half_m), (-half_m, -half_m))]  # fmt: skip
    return {"type": "Polygon", "coordinates": [[[lo, la] for la, lo in ring]]}


def order(ref: str = "ORD-1", **conditions: Any) -> dict[str, Any]:
    return {"ref": ref, "version": 1, "request_type": "NEW", "person_id": "PER-1",
            "addresses": [{"type": "PRIMARY", "line1": "1 Test St", "postcode": "LS1 1AA", "lat": HOME[0], "lon": HOME[1]}],
            "monitoring": {"start": iso(T0 - timedelta(days=3)), "end": iso(T0 + timedelta(days=60))},
            "conditions": conditions}  # fmt: skip


def activation(
    device_id: str, kind: str = "GPS_TAG", ref: str = "ORD-1", role: str = "WEARER", **kw: Any
) -> dict:
    return {"activation_id": f"ACT-{device_id}", "device_id": device_id, "device_kind": kind, "order_ref": ref,
            "person_id": "PER-1", "role": role, "start": iso(T0 - timedelta(days=2)), "end": None, **kw}  # fmt: skip


class Device:
    """Emits wire messages with increasing sequence numbers."""

    def __init__(self, device_id: str) -> None:
        self.device_id, self.seq = device_id, 0

    def msg(self, mtype: str, at: datetime, delay_s: float = 1.0, **payload: Any) -> dict[str, Any]:
        self.seq += 1
        return {"v": 1, "device_id": self.device_id, "seq": self.seq, "type": mtype, "device_time": iso(at),
                "receive_time": iso(at + timedelta(seconds=delay_s)), "payload": payload}  # fmt: skip

    def fix(self, at: datetime, lat: float, lon: float, acc: float = 5.0, **kw: Any) -> dict[str, Any]:
        return self.msg("gps", at, lat=lat, lon=lon, accuracy_m=acc, source=kw.pop("source", "GPS"), **kw)
